/*
 * remedy.c - fix advice for what was observed. The advice is data, one
 * row per (MTA, hole class) in remedy_rows.c: what was found, the exact
 * lines for that MTA's stock Debian layout, and how to check. Advice is given only for the hole classes observed (trick.h
 * classes: plain, sender, routing, identity); a plain open relay subsumes
 * the others, which cannot be told apart behind it.
 *
 * Sources: Postfix postconf(5) and SMTPD_ACCESS_README; sendmail cf/README
 * ("anti-spam configuration control", FEATUREs promiscuous_relay,
 * relay_local_from, relay_mail_from, loose_relay_check) and Debian's
 * /etc/mail layout; Debian exim4 (update-exim4.conf.conf dc_relay_nets,
 * conf.d/acl/30_exim4-config_check_rcpt, CHECK_RCPT_LOCAL_LOCALPARTS);
 * Debian's default /etc/smtpd.conf (opensmtpd 6.8: actions "local" and
 * "relay"). Every row is applied to Debian's stock files of its MTA, with
 * the hole it fixes, by tests/integration/620_remedy_statements.sh: each ERE
 * matches a statement of the file the row names, and the MTA's own check
 * passes. An ERE deletes whole statements (enum remedy_unit, audit.h).
 * Haraka's and Courier's rows are applied to the real MTA, whose hole then
 * closes, by tests/integration/160_audit_haraka.sh and 165_audit_courier.sh.
 * For MTAs without a test server (Exchange, qmail, MDaemon, unknown) the
 * generic principle and where to look, marked not verified.
 */
#include "remedy_impl.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same_sender_relays(const struct audit_target *t, const char *from)
{
	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *q = &t->probes[i];

		if (q->outcome == OUT_ACCEPTED && probe_is_relay(q) && !q->retried &&
		    q->spec.trick->klass == RG_CLASS_SENDER &&
		    strcmp(q->spec.mail_from, from) == 0)
			return true;
	}
	return false;
}

enum rg_trick_class remedy_hole_of(const struct audit_target *t,
    const struct audit_probe *p)
{
	enum rg_trick_class c = p->spec.trick->klass;

	if ((c == RG_CLASS_ROUTING || c == RG_CLASS_IDENTITY) && !p->retried &&
	    same_sender_relays(t, p->spec.mail_from))
		return RG_CLASS_SENDER;
	return c;
}

/* MTAs without a row of their own for a class get the generic principle. */
static bool mta_has_class_rows(enum mta_kind m)
{
	return m == MTA_POSTFIX || m == MTA_SENDMAIL || m == MTA_EXIM ||
	    m == MTA_OPENSMTPD;
}

bool audit_fix_applies(const struct audit_target *t)
{
	return t->verdict == VERDICT_OPEN_RELAY;
}

static const struct remedy_row *find_row(enum mta_kind m, int hole)
{
	for (size_t i = 0; i < remedy_nrows; i++)
		if (remedy_rows[i].mta == m && (int)remedy_rows[i].step.hole == hole)
			return &remedy_rows[i];
	return NULL;
}

static bool has_step(const struct remedy *r, const struct remedy_row *row, int hole)
{
	for (size_t i = 0; i < r->nsteps; i++)
		if ((row != NULL && r->steps[i] == &row->step) ||
		    (hole >= 0 && (int)r->steps[i]->hole == hole))
			return true;
	return false;
}

static void add_step(struct remedy *r, const struct remedy_row *row)
{
	if (row != NULL && !has_step(r, row, -1) && r->nsteps < RG_NELEM(r->steps))
		r->steps[r->nsteps++] = &row->step;
}

/* A hole the MTA has no row for: its generic row (MTAs without per-class
 * rows), or the principle for any MTA, then not verified. */
static void add_fallback(struct remedy *r, int hole)
{
	const struct remedy_row *row;
	bool any = false;

	r->verified = false;
	/* an MTA without per-class rows: where it grants relaying at all */
	if (!mta_has_class_rows(r->mta) && hole != AFTER_LOCAL)
		for (size_t i = 0; i < remedy_nrows; i++)
			if (remedy_rows[i].mta == r->mta && remedy_rows[i].step.hole == PLAIN) {
				add_step(r, &remedy_rows[i]);
				any = true;
			}
	if (any)
		return;
	row = find_row(MTA_UNKNOWN, hole);
	if (row == NULL)
		row = find_row(MTA_UNKNOWN, PLAIN);
	add_step(r, row);
}

void remedy_build(const struct audit_target *t, struct remedy *r)
{
	bool any = false;

	memset(r, 0, sizeof(*r));
	r->mta = t->mta;
	for (size_t i = 0; i < t->nprobes; i++) {
		const struct audit_probe *p = &t->probes[i];

		/* not a routing trick under a name that takes any local part */
		if (probe_is_evidence(t, p))
			r->holes[remedy_hole_of(t, p)] = true;
	}
	if (r->holes[PLAIN])	/* the others cannot be told apart behind it */
		for (int c = PLAIN + 1; c <= RG_CLASS_LAST; c++)
			r->holes[c] = false;
	for (int c = PLAIN; c <= RG_CLASS_LAST; c++)
		any |= r->holes[c];
	if (!any)
		return;
	/* per hole: the MTA's rows for it; verified only when every row used
	 * was proven on that MTA (tests/integration) and none is a fallback */
	r->verified = true;
	for (size_t i = 0; i < remedy_nrows; i++)
		if (remedy_rows[i].mta == t->mta && r->holes[remedy_rows[i].step.hole] &&
		    !has_step(r, &remedy_rows[i], -1)) {
			add_step(r, &remedy_rows[i]);
			r->verified &= remedy_rows[i].verified;
		}
	for (int c = PLAIN; c <= RG_CLASS_LAST; c++)
		if (r->holes[c] && !has_step(r, NULL, c))
			add_fallback(r, c);
}

void remedy_build_all(enum mta_kind m, struct remedy *r)
{
	memset(r, 0, sizeof(*r));
	r->mta = m;
	r->verified = true;
	for (size_t i = 0; i < remedy_nrows; i++)
		if (remedy_rows[i].mta == m && r->nsteps < RG_NELEM(r->steps)) {
			r->steps[r->nsteps++] = &remedy_rows[i].step;
			r->holes[remedy_rows[i].step.hole] = true;
			r->verified &= remedy_rows[i].verified;
		}
}

/* What one delete pattern removes, in the JSON ("remove_unit") and in the
 * text: the name, the words "delete ... matching", and how a statement is
 * told (NULL for single lines). */
static const struct {
	const char *name, *what, *how;
} units[] = {
	[REMEDY_UNIT_LINE] = {"line", "lines", NULL},
	[REMEDY_UNIT_EXIM] = {"exim-statement", "whole statements",
	    "an ACL statement is its verb line with all its continuation lines, "
	    "up to the next verb (elsewhere a setting with its \\ lines), matched "
	    "as its lines joined by spaces; Exim joins a line left behind to the "
	    "statement before it"},
	[REMEDY_UNIT_SMTPD] = {"smtpd-rule", "whole rules",
	    "a rule is its line and the lines it continues with a trailing \\, "
	    "matched as its lines joined by spaces"},
	[REMEDY_UNIT_M4] = {"m4-call", "whole m4 calls",
	    "an m4 call is every line of it up to its closing parenthesis, "
	    "matched as its lines joined by spaces"},
};

const char *remedy_unit_name(enum remedy_unit u)
{
	return units[u].name;
}

static void line(FILE *out, const char *indent, const char *s)
{
	fprintf(out, "%s%s\n", indent, s);
}

static bool printed_before(const struct remedy *r, size_t upto, const char *l)
{
	for (size_t k = 0; k < upto; k++)
		for (size_t j = 0; r->steps[k]->lines[j]; j++)
			if (strcmp(r->steps[k]->lines[j], l) == 0 &&
			    strcmp(r->steps[k]->config_file, r->steps[upto]->config_file) == 0)
				return true;
	return false;
}

/* The "found:" lines heading a step: every hole for a generic row, the
 * step's own hole for per-class rows, once per run of steps. */
static void print_found(const struct remedy *r, size_t i, FILE *out,
    const char *indent)
{
	const struct remedy_step *s = r->steps[i];
	char buf[400];

	if (r->verified ? i > 0 && r->steps[i - 1]->hole == s->hole : i > 0)
		return;
	for (int c = PLAIN; c <= RG_CLASS_LAST; c++) {
		if (!r->holes[c] || (r->verified && c != (int)s->hole))
			continue;
		snprintf(buf, sizeof(buf), "# found: %s", found_text(c));
		line(out, indent, buf);
	}
}

/* What to delete: the patterns, what each deletes, typical examples. */
static void print_deletions(const struct remedy_step *s, enum mta_kind m,
    FILE *out, const char *indent)
{
	const char *what = units[s->unit].what;
	char buf[1200];

	if (s->remove[0] && units[s->unit].how) {
		snprintf(buf, sizeof(buf), "# delete %s, never a single line of one: %s",
		    what, units[s->unit].how);
		line(out, indent, buf);
	}
	for (size_t j = 0; s->remove[j]; j++) {
		snprintf(buf, sizeof(buf), "# delete %s matching: %s", what, s->remove[j]);
		line(out, indent, buf);
	}
	if (s->shown[0] && m == MTA_SENDMAIL && s->unit == REMEDY_UNIT_M4) {
		/* the .mc is m4: dnl comments, the calls to remove below */
		line(out, indent, "dnl remove these calls, then rebuild sendmail.cf:");
		for (size_t j = 0; s->shown[j]; j++) {
			snprintf(buf, sizeof(buf), "dnl   %s", s->shown[j]);
			line(out, indent, buf);
		}
		return;
	}
	for (size_t j = 0; s->shown[j]; j++) {
		snprintf(buf, sizeof(buf), "# such as: delete '%s'%s", s->shown[j],
		    s->unit == REMEDY_UNIT_LINE ? "" : " with all its continuation lines");
		line(out, indent, buf);
	}
}

void mta_remedy(const struct audit_target *t, FILE *out, const char *indent)
{
	struct remedy r;
	char buf[1200];

	remedy_build(t, &r);
	if (!r.verified) {
		snprintf(buf, sizeof(buf), "# not verified: no test applies this advice to a "
		    "real %s with this hole; the principle and where to look",
		    mta_name(t->mta));
		line(out, indent, buf);
	}
	for (size_t i = 0; i < r.nsteps; i++) {
		const struct remedy_step *s = r.steps[i];

		print_found(&r, i, out, indent);
		snprintf(buf, sizeof(buf), "# in %s:", s->config_file);
		line(out, indent, buf);
		if (s->note) {
			snprintf(buf, sizeof(buf), "# %s", s->note);
			line(out, indent, buf);
		}
		print_deletions(s, t->mta, out, indent);
		for (size_t j = 0; s->lines[j]; j++)
			if (!printed_before(&r, i, s->lines[j]))
				line(out, indent, s->lines[j]);
		snprintf(buf, sizeof(buf), "# check: %s", s->check);
		line(out, indent, buf);
	}
}

static json_t *step_json(const struct remedy_step *s)
{
	json_t *st = json_object(), *rm = json_array(), *ln = json_array();

	json_object_set_new(st, "hole", json_string(rg_trick_class_name(s->hole)));
	json_object_set_new(st, "found", json_string(s->found));
	json_object_set_new(st, "config_file", json_string(s->config_file));
	for (size_t k = 0; s->remove[k]; k++)
		json_array_append_new(rm, json_string(s->remove[k]));
	for (size_t k = 0; s->lines[k]; k++)
		json_array_append_new(ln, json_string(s->lines[k]));
	json_object_set_new(st, "remove", rm);
	json_object_set_new(st, "remove_unit", json_string(units[s->unit].name));
	json_object_set_new(st, "lines", ln);
	json_object_set_new(st, "check", json_string(s->check));
	json_object_set_new(st, "note", s->note ? json_string(s->note) : json_null());
	return st;
}

json_t *remedy_json_object(const struct remedy *r)
{
	json_t *rj = json_object(), *holes = json_array(), *steps = json_array();

	json_object_set_new(rj, "mta", json_string(mta_name(r->mta)));
	json_object_set_new(rj, "verified", json_boolean(r->verified));
	for (int c = RG_CLASS_PLAIN; c <= RG_CLASS_LAST; c++)
		if (r->holes[c])
			json_array_append_new(holes, json_string(rg_trick_class_name(c)));
	json_object_set_new(rj, "holes", holes);
	for (size_t i = 0; i < r->nsteps; i++)
		json_array_append_new(steps, step_json(r->steps[i]));
	json_object_set_new(rj, "steps", steps);
	return rj;
}

char *mta_remedy_string(const struct audit_target *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return xstrdup("");
	mta_remedy(t, f, "");
	fclose(f);
	return buf;
}
