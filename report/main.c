/*
 * relayguard-report - one HTML page a person would rather look at than read:
 * the before/after audit matrix (probe x outcome), the bounce rate over time
 * as an SVG chart drawn here (no scripts, no network assets), and the fix
 * that was applied.
 *
 * relayguard-report --before A.json --after B.json [--series S.csv]
 *                   [--fix FILE] [--storm EVENTS.jsonl] [--title T]
 *                   [--output report.html]      (default: standard output)
 * relayguard-report notify --events EVENTS.jsonl [--out DIR] ...   (notify.h)
 *
 * A.json/B.json: relayguard-audit -f json output (first object used).
 * S.csv: "seconds,phase,bounces" lines (phase: storm|filtered|fixed, in
 * that order: the abuser filtered, then the relay fixed), e.g. sampled by
 * the demo from the Postfix maillog.
 */
#include "notify.h"
#include "lib/mail/eventlog.h"
#include "lib/base/i18n.h"
#include "lib/base/regfile.h"
#include "lib/base/log.h"
#include "lib/base/outfile.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"
#include "lib/base/version.h"
#include "page.h"

#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

/* The phases of a case, in order; the chart marks where each one begins. */
enum phase { PH_STORM, PH_FILTERED, PH_FIXED, PH_COUNT };
static const char *const phase_names[PH_COUNT] = {"storm", "filtered", "fixed"};
static const char *const phase_colours[PH_COUNT] = {"#d62828", "#e76f51", "#2a9d4b"};

struct sample { double t; int phase; double bounces; };

/* Everything the page shows, read before the first byte is written: a bad
 * input is an error before any output exists. */
struct page {
	const char *title;
	struct rg_reporter *reporter;
	struct rg_clock clk;
	json_t *before, *after;
	struct sample *s;
	size_t n;
	FILE *fix, *events;	/* --fix, --storm, or NULL */
};

/* Text from the audit JSON, the event log or the fix file: the HTML rule of
 * textclean.h per line (markup as entities, controls, C1, bidi controls and
 * broken UTF-8 as \xHH / \uHHHH), line breaks kept for <pre>. */
void html_escape(FILE *out, const char *s)
{
	while (s && *s) {
		size_t len = strcspn(s, "\n");
		char *line = xstrndup(s, len);

		rg_clean_fputs(RG_SINK_HTML, line, out);
		free(line);
		s += len;
		if (*s == '\n') {
			fputc('\n', out);
			s++;
		}
	}
}

/*
 * The one target's result of relayguard-audit -f json (an object, or an
 * array holding one): anything else would make a page that claims a
 * before/after comparison of nothing.
 */
static json_t *audit_result(const char *path, json_t *j)
{
	json_t *r = j;

	if (json_is_array(j)) {
		if (json_array_size(j) != 1)
			msg_fatal("%s: %zu audit results; the report compares one "
			    "target (audit it alone, or pick one with jq '.[N]')",
			    path, json_array_size(j));
		r = json_incref(json_array_get(j, 0));
		json_decref(j);
	}
	if (!json_is_object(r) || !json_is_string(json_object_get(r, "verdict")) ||
	    !json_is_array(json_object_get(r, "tests")))
		msg_fatal("%s: not a relayguard-audit -f json result (no verdict "
		    "and tests)", path);
	return r;
}

static json_t *load_json(const char *path)
{
	json_error_t err;
	char why[600];
	json_t *j;
	FILE *f;

	if (path == NULL)
		return NULL;
	if ((f = rg_infile_open(path, why, sizeof(why))) == NULL)
		msg_fatal("%s", why);
	j = json_loadf(f, JSON_DISABLE_EOF_CHECK, &err);
	fclose(f);
	if (j == NULL)
		msg_fatal("%s:%d: %s", path, err.line, err.text);
	if (json_is_array(j) && json_array_size(j) > 0) {
		/* -f json for several targets is an array: its first result */
		json_t *first = json_incref(json_array_get(j, 0));

		json_decref(j);
		j = first;
	}
	return audit_result(path, j);
}

const char *jget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* Values used in class names and plain text without escaping must be
 * tokens (outcomes, verdicts, times, MTA names); anything else from the
 * input JSON becomes "invalid". */
static const char *token(const char *v)
{
	for (const char *c = v; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_-.:+ ", *c))
			return "invalid";
	return v;
}

static json_t *find_test(json_t *audit, const char *id)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(audit, "tests"), i, t)
		if (strcmp(jget(t, "id"), id) == 0)
			return t;
	return NULL;
}

/* What a person reads for a verdict or outcome token (the token itself stays
 * the class name). */
static const char *word(const char *token_value)
{
	static const char *const words[][2] = {
		{"open_relay", N_("open relay")}, {"closed", N_("closed")},
		{"accept_all", N_("accept-all")}, {"inconclusive", N_("inconclusive")},
		{"unreachable", N_("unreachable")}, {"accepted", N_("accepted")},
		{"rejected", N_("rejected")}, {"tempfail", N_("tempfail")},
		{"auth_required", N_("AUTH required")}, {"tls_required", N_("TLS required")},
		{"error", N_("error")}, {"not_run", N_("not run")}, {"untested", N_("untested")},
	};

	for (size_t i = 0; i < RG_NELEM(words); i++)
		if (strcmp(token_value, words[i][0]) == 0)
			return _(words[i][1]);
	return token_value;
}

static void cell(FILE *out, json_t *t)
{
	const char *o = t ? token(jget(t, "outcome")) : "not_run";
	bool control = t && json_is_true(json_object_get(t, "control"));
	char reply[600] = "";

	if (t && json_is_integer(json_object_get(t, "code")))
		snprintf(reply, sizeof(reply), "%lld %s %s",
		    (long long)json_integer_value(json_object_get(t, "code")),
		    jget(t, "enhanced"), jget(t, "text"));
	fprintf(out, "<td class=\"%s%s\" title=\"", control ? "control o-" : "o-", o);
	html_escape(out, reply);
	fprintf(out, "\">%s%s</td>", word(o),
	    t && strcmp(jget(t, "data"), "taken") == 0 ? " + DATA 354" : "");
}

static void verdict_box(FILE *out, const char *label, json_t *a)
{
	const char *v = token(jget(a, "verdict"));
	char t1[RG_TIME_ISO_LEN], t2[RG_TIME_ISO_LEN];

	fprintf(out, "<div class=\"verdict v-%s\"><h3>%s</h3><p class=\"big\">%s</p><p>",
	    v, label, word(v));
	page_verdict_reason(out, a);
	fprintf(out, "</p><p class=\"small\">");
	html_escape(out, jget(a, "banner"));
	fprintf(out, "<br>%s &ndash; %s</p></div>\n",
	    page_time(token(jget(a, "start")), t1, sizeof(t1)),
	    page_time(token(jget(a, "finish")), t2, sizeof(t2)));
}

static void matrix(FILE *out, json_t *before, json_t *after)
{
	size_t i;
	json_t *t;

	fprintf(out, "<table class=\"matrix\"><thead><tr><th>%s</th><th>MAIL FROM</th>"
	    "<th>RCPT TO</th><th>%s</th><th>%s</th></tr></thead><tbody>\n", _("probe"),
	    _("before the fix"), _("after the fix"));
	json_array_foreach(json_object_get(before, "tests"), i, t) {
		const char *id = jget(t, "id");

		fprintf(out, "<tr><td class=\"id\">");
		html_escape(out, id);
		if (json_is_true(json_object_get(t, "control")))
			fprintf(out, " <span class=\"small\">%s</span>", _("(control)"));
		fprintf(out, "</td><td><code>");
		html_escape(out, jget(t, "mail_from"));
		fprintf(out, "</code></td><td><code>");
		html_escape(out, jget(t, "rcpt_to"));
		fprintf(out, "</code></td>");
		cell(out, t);
		cell(out, after ? find_test(after, id) : NULL);
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</tbody></table>\n");
}

/* An optional input file (NULL without its option); a named file that
 * cannot be read, or is not a regular file, is an error. */
static FILE *open_input(const char *path)
{
	char why[600];
	FILE *f;

	if (path == NULL)
		return NULL;
	if ((f = rg_infile_open(path, why, sizeof(why))) == NULL)
		msg_fatal("%s", why);
	return f;
}

static size_t load_series(const char *path, struct sample **out)
{
	FILE *f = open_input(path);
	size_t n = 0, cap = 0;
	char line[256];
	unsigned lineno = 0;

	*out = NULL;
	while (f && fgets(line, sizeof(line), f)) {
		struct sample s;
		char phase[32];

		lineno++;
		if (line[0] == '#' || strncmp(line, "seconds", 7) == 0)
			continue;
		if (sscanf(line, "%lf,%31[^,],%lf", &s.t, phase, &s.bounces) != 3)
			msg_fatal("%s:%u: expected seconds,phase,bounces", path, lineno);
		for (s.phase = 0; s.phase < PH_COUNT; s.phase++)
			if (strcmp(phase, phase_names[s.phase]) == 0)
				break;
		if (s.phase == PH_COUNT)
			msg_fatal("%s:%u: phase '%s' is not storm, filtered or fixed", path,
			    lineno, phase);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[n++] = s;
	}
	if (f)
		fclose(f);
	return n;
}

/* A dashed vertical line where a phase begins, with its label. */
static void phase_mark(FILE *out, double x, double top, double bottom, int row,
    const char *label)
{
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#264653\" "
	    "stroke-dasharray=\"5,4\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
	    "fill=\"#264653\">%s</text>\n", x, top, x, bottom, x + 5, top + 12 + 14 * row,
	    label);
}

/* One phase's line; it starts where the previous phase's line ends. */
static void phase_line(FILE *out, const struct sample *s, size_t n, int phase,
    double (*x)(double), double (*y)(double))
{
	bool any = false;

	fprintf(out, "<polyline fill=\"none\" stroke-width=\"2.5\" stroke=\"%s\" points=\"",
	    phase_colours[phase]);
	for (size_t i = 0; i < n; i++) {
		bool bridge = s[i].phase < phase && i + 1 < n && s[i + 1].phase == phase;

		if (s[i].phase != phase && !bridge)
			continue;
		fprintf(out, "%s%.1f,%.1f", any ? " " : "", x(s[i].t), y(s[i].bounces));
		any = true;
	}
	fprintf(out, "\"/>\n");
}

static const double CW = 760, CH = 260, CL = 60, CR = 20, CT = 20, CB = 40;
static double chart_tmax, chart_ymax;
static double chart_x(double t) { return CL + t / chart_tmax * (CW - CL - CR); }
static double chart_y(double v) { return CT + (CH - CT - CB) * (1 - v / chart_ymax); }

static void chart_axes(FILE *out)
{
	for (int k = 0; k <= 4; k++) {
		double v = chart_ymax / 1.1 * k / 4;

		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.0f</text>\n",
		    CL, chart_y(v), CW - CR, chart_y(v), CL - 6, chart_y(v) + 4, v);
	}
	for (int k = 0; k <= 5; k++) {
		double t = chart_tmax * k / 5;

		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">"
		    "%.0f s</text>\n", chart_x(t), CH - CB + 16, t);
	}
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
	    CL, CH - CB, CW - CR, CH - CB);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
	    CL, CT, CL, CH - CB);
	fprintf(out, "<text x=\"14\" y=\"%.1f\" font-size=\"12\" transform=\"rotate(-90 14 %.1f)\" "
	    "text-anchor=\"middle\">%s</text>\n", (CH - CB + CT) / 2, (CH - CB + CT) / 2,
	    _("bounces (cumulative)"));
}

/* A step chart of cumulative bounces: the storm red, after the abuser was
 * filtered orange, after the relay was fixed green; a mark where each of
 * the last two begins. */
static void chart(FILE *out, const struct sample *s, size_t n)
{
	const char *labels[PH_COUNT] = {NULL, _("abuser filtered"), _("relay fixed")};
	double start[PH_COUNT] = {-1, -1, -1};

	chart_tmax = 1;
	chart_ymax = 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i].t > chart_tmax)
			chart_tmax = s[i].t;
		if (s[i].bounces > chart_ymax)
			chart_ymax = s[i].bounces;
		if (start[s[i].phase] < 0)
			start[s[i].phase] = s[i].t;
	}
	chart_ymax *= 1.1;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n",
	    CW, CH, CW, CH, _("bounces over time"));
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n",
	    CW, CH);
	chart_axes(out);
	for (int phase = 0; phase < PH_COUNT; phase++)
		phase_line(out, s, n, phase, chart_x, chart_y);
	for (int phase = PH_FILTERED, row = 0; phase < PH_COUNT; phase++)
		if (start[phase] >= 0)
			phase_mark(out, chart_x(start[phase]), CT, CH - CB, row++, labels[phase]);
	fprintf(out, "</svg>\n");
}

static void print_file(FILE *out, FILE *f)
{
	char line[1024];

	if (f == NULL)
		return;
	fprintf(out, "<h2>%s</h2><pre class=\"fix\">", _("The fix that was applied"));
	while (fgets(line, sizeof(line), f))
		html_escape(out, line);
	fprintf(out, "</pre>\n");
}

static const char css[] =
	"body{font-family:'DejaVu Sans','Noto Sans CJK JP',Arial,sans-serif;margin:24px;color:#222;max-width:1100px}"
	"h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
	".verdicts{display:flex;gap:16px}.verdict{flex:1;border-radius:8px;padding:10px 14px;"
	"border:2px solid #999}.verdict h3{margin:0}.big{font-size:22px;font-weight:bold;margin:4px 0}"
	".v-open_relay{border-color:#d62828;background:#fdecec}.v-closed{border-color:#2a9d4b;"
	"background:#eaf7ee}.v-inconclusive,.v-accept_all{border-color:#e9a23b;background:#fdf5e8}"
	".small{font-size:11px;color:#555}table.matrix{border-collapse:collapse;font-size:12px;"
	"width:100%}.matrix th,.matrix td{border:1px solid #ccc;padding:3px 6px;text-align:left}"
	".matrix th{background:#f0f0f0}.o-accepted{background:#f8c4c4}.o-rejected{background:#c9ecd3}"
	".o-tempfail,.o-tls_required,.o-auth_required{background:#fbe3b8}.o-error,.o-not_run"
	"{background:#ddd}td.control{background:#eef2f7}.id{font-weight:bold}pre.fix{background:#f6f6f6;padding:10px;"
	"border-left:4px solid #264653}.events{font-size:11px}.legend span{padding:1px 6px;"
	"margin-right:8px}";

static void write_page(FILE *out, struct page *p)
{
	char ts[RG_TIME_ISO_LEN], line[400];

	fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	    "<title>", rg_i18n_lang());
	html_escape(out, p->title);
	fprintf(out, "</title><style>%s</style></head><body>\n<h1>", css);
	html_escape(out, p->title);
	fprintf(out, "</h1><p class=\"small\">");
	fprintf(out, _("Generated %s by relayguard-report %s. Target "),
	    rg_time_iso8601(NULL, ts, sizeof(ts)), RG_VERSION);
	html_escape(out, jget(p->before, "target"));
	fprintf(out, " (%s).<br>", token(jget(p->before, "mta")));
	fprintf(out, "%s", _("Reporter: "));
	html_escape(out, rg_reporter_name(p->reporter));
	fprintf(out, "; ");
	html_escape(out, rg_clock_zone_line(&p->clk, line, sizeof(line)));
	fprintf(out, "; ");
	html_escape(out, rg_clock_describe(&p->clk, line, sizeof(line)));
	fprintf(out, "</p>\n<div class=\"verdicts\">");
	verdict_box(out, _("Before the fix"), p->before);
	if (p->after)
		verdict_box(out, _("After the fix"), p->after);
	fprintf(out, "</div>\n");
	if (p->n > 0) {
		fprintf(out, "<h2>%s</h2>\n", _("Bounces piling up for postmaster/root"));
		chart(out, p->s, p->n);
		fprintf(out, "<p class=\"legend\"><span style=\"background:%s;color:#fff\">%s"
		    "</span><span style=\"background:%s;color:#fff\">%s</span>"
		    "<span style=\"background:%s;color:#fff\">%s</span></p>\n",
		    phase_colours[PH_STORM], _("storm (open relay abused)"),
		    phase_colours[PH_FILTERED], _("abuser filtered"),
		    phase_colours[PH_FIXED], _("after the fix"));
	}
	if (p->fix)
		print_file(out, p->fix);
	if (p->events)
		page_events(out, p->events);
	fprintf(out, "<h2>%s</h2>\n<p class=\"legend\">"
	    "<span class=\"o-accepted\">%s</span><span class=\"o-rejected\">%s</span>"
	    "<span class=\"o-tempfail\">%s</span><span class=\"o-error\">%s</span> %s</p>\n",
	    _("Audit matrix: every probe, before and after"), _("accepted = relayed"),
	    _("rejected"), _("tempfail / TLS / AUTH"), _("error / not run"),
	    _("(hover a cell for the reply)"));
	matrix(out, p->before, p->after);
	fprintf(out, "</body></html>\n");
}

/* The page goes to --output through a temporary file renamed when complete
 * (outfile.h), or to standard output, checked when it is closed: a full
 * disk is exit 1 with one line, never a cut page with exit 0. */
static int emit(struct page *p, const char *output)
{
	struct rg_outfile of;
	char err[700];

	if (output == NULL) {
		write_page(stdout, p);
		return rg_close_stdout();
	}
	if (rg_outfile_open(&of, output, 0644, err, sizeof(err)) != 0) {
		msg_error("%s", err);
		return -1;
	}
	write_page(of.fp, p);
	if (rg_outfile_commit(&of, err, sizeof(err)) != 0) {
		msg_error("%s", err);
		return -1;
	}
	return rg_close_stdout();
}

static void page_free(struct page *p)
{
	if (p->fix)
		fclose(p->fix);
	if (p->events)
		fclose(p->events);
	free(p->s);
	json_decref(p->before);
	json_decref(p->after);
	rg_reporter_free(p->reporter);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: relayguard-report --before A.json [--after B.json] "
	    "[--series S.csv] [--fix FILE] [--storm EVENTS.jsonl] [--title T]\n"
	    "       [--lang en|ja] [--reporter FILE] [--output FILE]\n"
	    "       relayguard-report notify --events EVENTS.jsonl ... (--help)\n"
	    "       relayguard-report blocklist --events EVENTS.jsonl ... (--help)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"before", required_argument, NULL, 'b'}, {"after", required_argument, NULL, 'a'},
		{"series", required_argument, NULL, 's'}, {"fix", required_argument, NULL, 'f'},
		{"storm", required_argument, NULL, 'e'}, {"title", required_argument, NULL, 't'},
		{"version", no_argument, NULL, 'V'}, {"output", required_argument, NULL, 'o'},
		{"lang", required_argument, NULL, 'l'}, {"reporter", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *before_path = NULL, *after_path = NULL, *series_path = NULL;
	const char *fix_path = NULL, *events_path = NULL, *output = NULL;
	const char *lang = NULL, *reporter_path = NULL;
	struct page p = {0};
	char err[700];
	int c, rc;

	msg_init(argv[0]);
	if (argc > 1 && strcmp(argv[1], "notify") == 0)
		return notify_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "blocklist") == 0)
		return blocklist_main(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "b:a:s:f:e:t:o:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': before_path = optarg; break;
		case 'a': after_path = optarg; break;
		case 's': series_path = optarg; break;
		case 'f': fix_path = optarg; break;
		case 'e': events_path = optarg; break;
		case 't': p.title = optarg; break;
		case 'o': output = optarg; break;
		case 'V':
			printf("relayguard-report %s\n", RG_VERSION);
			return rg_close_stdout() == 0 ? 0 : 1;
		case 'l': lang = optarg; break;
		case 'r': reporter_path = optarg; break;
		case 'h':
			usage(stdout);
			return rg_close_stdout() == 0 ? 0 : 1;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (before_path == NULL || optind < argc) {
		if (optind < argc)
			msg_error("unexpected argument '%s'", argv[optind]);
		else
			msg_error("--before is required");
		usage(stderr);
		return EX_USAGE;
	}
	if ((p.reporter = rg_reporter_find(reporter_path, NULL, err, sizeof(err))) == NULL)
		msg_fatal("--reporter: %s", err);
	if (rg_i18n_init(lang, p.reporter->language, err, sizeof(err)) != 0)
		msg_fatal("--lang: %s", err);
	rg_reporter_apply_timezone(p.reporter);
	rg_clock_read(&p.clk);
	if (p.title == NULL)
		p.title = _("relayguard: open relay, before and after the fix");
	p.before = load_json(before_path);
	p.after = load_json(after_path);
	p.n = load_series(series_path, &p.s);
	p.fix = open_input(fix_path);
	p.events = open_input(events_path);
	rc = emit(&p, output);
	page_free(&p);
	return rc == 0 ? 0 : 1;
}
