/*
 * output.c - results out as they finish, and the progress line.
 *
 * audit_json_line() writes one target's object as one line, in
 * relayguard's field names or, with --fields intelmq, in IntelMQ's
 * harmonized names so a CSIRT pipeline takes it unchanged:
 *	source.ip, source.port, source.fqdn (a name target), source.reverse_dns
 *	protocol.application = smtp, protocol.transport = tcp
 *	classification.taxonomy = vulnerable, classification.type =
 *	vulnerable-system, classification.identifier = openrelay - for an
 *	open relay only; any other verdict is other / undetermined /
 *	openrelay-check, so nothing closed is ever reported as vulnerable
 *	time.observation (when the target's audit finished), feed.name
 *	(--feed-name), event_description.text (the verdict's reason)
 *	extra.* - every other field, under its relayguard name (extra.verdict,
 *	extra.tool_version, extra.vantage, extra.schema_version, extra.tests...)
 *
 * The report goes to standard output or to -o FILE (audit_out_*): every
 * write is checked, FILE is complete or absent (lib/base/outfile.c), and a
 * write that fails stops the run with one line and exit AUDIT_EXIT_OUTPUT
 * instead of ending in exit 0 with a truncated document.
 *
 * The progress line (stderr, only when it is a terminal) shows done/total,
 * open relays, inconclusive, targets/s and the ETA; audit_progress() is
 * called by the main thread once a second and at the end, where it shows
 * N/N. A warning meanwhile clears it first and stands on its own line; the
 * next tick draws it again. audit_summary() is the end line on stderr.
 */
#include "audit.h"
#include "lib/base/hostport.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool stdout_closed;

/* IntelMQ's FQDN: lowercase labels of [a-z0-9_-], no trailing dot. */
static bool fqdn_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") || rg_is_ip(s))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    !strchr("._-", *s))
			return false;
	return true;
}

static json_t *intelmq(json_t *native, const struct audit_target *t,
    const struct audit_opts *o)
{
	json_t *m = json_object();
	const char *key;
	json_t *v;
	char host[256];
	bool open = t->verdict == VERDICT_OPEN_RELAY;

	strlcpy_rg(host, t->host, sizeof(host));
	rg_lowercase(host);
	if (t->address[0])
		json_object_set_new(m, "source.ip", json_string(t->address));
	else if (rg_is_ip(t->host))
		json_object_set_new(m, "source.ip", json_string(t->host));
	json_object_set_new(m, "source.port", json_integer(t->port));
	if (fqdn_ok(host))
		json_object_set_new(m, "source.fqdn", json_string(host));
	if (t->dns_checked && fqdn_ok(t->ptr))
		json_object_set_new(m, "source.reverse_dns", json_string(t->ptr));
	json_object_set_new(m, "protocol.application", json_string("smtp"));
	json_object_set_new(m, "protocol.transport", json_string("tcp"));
	json_object_set_new(m, "classification.taxonomy", json_string(open ? "vulnerable" :
	    "other"));
	json_object_set_new(m, "classification.type", json_string(open ? "vulnerable-system" :
	    "undetermined"));
	json_object_set_new(m, "classification.identifier", json_string(open ? "openrelay" :
	    "openrelay-check"));
	json_object_set_new(m, "time.observation", json_incref(json_object_get(native, "finish")));
	if (o->feed_name && o->feed_name[0])
		json_object_set_new(m, "feed.name", json_string(o->feed_name));
	v = json_object_get(native, "verdict_reason");
	if (json_is_string(v) && json_string_length(v) > 0)
		json_object_set(m, "event_description.text", v);
	json_object_foreach(native, key, v) {
		char name[128];

		if (strcmp(key, "verdict_reason") == 0)
			continue;
		snprintf(name, sizeof(name), "extra.%s", key);
		json_object_set(m, name, v);
	}
	return m;
}

/* One result object, then end ("\n" for a line, "" inside an array). */
static void write_object(const struct audit_target *t, const struct audit_opts *o,
    FILE *out, const char *end)
{
	json_t *j = report_json_object(t, o);

	if (o->fields == FIELDS_INTELMQ) {
		json_t *m = intelmq(j, t, o);

		json_decref(j);
		j = m;
	}
	/* one string, one write: json_dumpf() writes token by token */
	char *line = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (line != NULL) {
		fputs(line, out);
		fputs(end, out);
		free(line);
	}
	json_decref(j);
}

void audit_json_line(const struct audit_target *t, const struct audit_opts *o, FILE *out)
{
	write_object(t, o, out, "\n");
}

/* -f json: each element on a line of its own ("[", "{...},", "{...}", "]"),
 * so a reader of lines (--resume, --baseline) takes it as well. */
void audit_json_doc_add(struct audit_json_doc *d, const struct audit_target *t,
    const struct audit_opts *o, FILE *out)
{
	if (d->array)
		fputs(d->n == 0 ? "[\n" : ",\n", out);
	write_object(t, o, out, d->array ? "" : "\n");
	d->n++;
}

void audit_json_doc_end(const struct audit_json_doc *d, FILE *out)
{
	if (d->n == 0)
		fputs("[]\n", out);
	else if (d->array)
		fputs("\n]\n", out);
}

bool audit_json_frame_line(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && strchr(" \t\r\n", line[n - 1]))
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == ',')
		line[--n] = '\0';
	line += strspn(line, " \t");
	return strcmp(line, "[") == 0 || strcmp(line, "]") == 0 || strcmp(line, "[]") == 0;
}

/* The progress line on the terminal, for the stderr hook to clear. */
static struct audit_progress *shown_progress;

static void clear_progress(void)
{
	if (shown_progress == NULL || !shown_progress->shown)
		return;
	fputs("\r\033[K", stderr);
	shown_progress->shown = false;
}

void audit_progress(struct audit_progress *p, bool final)
{
	double secs = rg_now() - p->start, rate = secs > 0 ? (double)p->done / secs : 0;
	char total[32] = "?", eta[32] = "?";

	if (shown_progress == NULL) {
		shown_progress = p;
		msg_stderr_before(clear_progress);
	}
	if (final) {		/* what was counted, whatever the lists promised */
		p->total = p->done;
		p->total_known = true;
	}
	if (p->total_known) {
		snprintf(total, sizeof(total), "%zu", p->total > p->done ? p->total : p->done);
		if (rate > 0 && p->total >= p->done) {
			double left = (double)(p->total - p->done) / rate;

			snprintf(eta, sizeof(eta), "%dm%02ds", (int)(left / 60), (int)left % 60);
		}
	}
	fprintf(stderr, "\r\033[K%zu/%s done, %zu open relays, %zu inconclusive, %zu "
	    "unreachable, %.1f targets/s, ETA %s%s", p->done, total,
	    p->verdicts[VERDICT_OPEN_RELAY], p->verdicts[VERDICT_INCONCLUSIVE],
	    p->verdicts[VERDICT_UNREACHABLE], rate, eta, final ? "\n" : "");
	p->shown = !final;
	fflush(stderr);
}

void audit_summary(const struct audit_progress *p)
{
	static const enum verdict order[] = {VERDICT_OPEN_RELAY, VERDICT_DOMAIN_RELAY,
	    VERDICT_ACCEPT_ALL, VERDICT_INCONCLUSIVE, VERDICT_CLOSED, VERDICT_UNREACHABLE};
	char line[400];
	size_t len;

	len = (size_t)snprintf(line, sizeof(line), "%zu target%s:", p->done,
	    p->done == 1 ? "" : "s");
	for (size_t i = 0, n = 0; i < RG_NELEM(order) && len < sizeof(line); i++) {
		/* domain_relay (a backup MX) only when there is one */
		if (order[i] == VERDICT_DOMAIN_RELAY && p->verdicts[order[i]] == 0)
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %zu %s",
		    n++ ? "," : "", p->verdicts[order[i]], verdict_name(order[i]));
	}
	if (p->unresolved && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, " (%zu unresolved)", p->unresolved);
	msg_info("%s in %.1f s", line, rg_now() - p->start);
}

void audit_out_guard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (fd == STDOUT_FILENO)
			stdout_closed = true;
		/* open() takes the lowest free number: this one */
		if (open("/dev/null", O_RDWR) != fd)
			_exit(AUDIT_EXIT_OUTPUT);
	}
}

/* -o FILE is also --resume FILE: the earlier results stay in it. Only
 * whole lines: one cut off by a crash is left behind, as --resume does.
 * With -f json the earlier objects are taken out of their array and become
 * the first elements of the new one (out->carried of them). */
static int carry_resume(struct audit_out *out, const char *path, bool json,
    char *err, size_t errlen)
{
	FILE *from = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (from == NULL)
		return rg_set_err(err, errlen, "%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, from)) > 0) {
		if (line[n - 1] != '\n')
			break;
		if (!json) {
			if (fwrite(line, 1, (size_t)n, out->fp) != (size_t)n)
				break;
			continue;
		}
		if (audit_json_frame_line(line) || line[0] == '\0')
			continue;
		if (fprintf(out->fp, "%s%s", out->carried++ ? ",\n" : "[\n", line) < 0)
			break;
	}
	if (ferror(from))
		rc = rg_set_err(err, errlen, "%s: %s", path, strerror(errno));
	free(line);
	fclose(from);
	return rc;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino;
}

int audit_out_open(struct audit_out *out, const struct audit_opts *o, char *err,
    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (o->output == NULL) {
		if (stdout_closed)
			return rg_set_err(err, errlen, "standard output is closed: "
			    "nowhere to write the report (use -o FILE)");
		out->fp = stdout;
		return 0;
	}
	bool carry = o->resume != NULL && same_file(o->resume, o->output);
	struct stat st;

	/* the file is replaced by a rename: never a device or a directory
	 * (-o /dev/null would put a regular file in its place) */
	if (lstat(o->output, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return rg_set_err(err, errlen, "%s: not a regular file: -o writes a file "
		    "(leave -o out to write to standard output)", o->output);
	if (rg_outfile_open(&out->of, o->output, 0644, err, errlen) != 0)
		return -1;
	out->fp = out->of.fp;
	out->path = o->output;
	if (carry && carry_resume(out, o->resume, o->format == FORMAT_JSON, err,
	    errlen) != 0) {
		rg_outfile_abort(&out->of);
		return -1;
	}
	return 0;
}

bool audit_out_ok(struct audit_out *out, bool flush)
{
	int e = 0;

	if (out->failed)
		return false;
	if (flush) {
		errno = 0;
		if (fflush(out->fp) != 0)
			e = errno ? errno : EIO;
	}
	/* else errno is that of the write that failed (the last call) */
	if (e == 0 && ferror(out->fp))
		e = errno ? errno : EIO;
	if (e == 0)
		return true;
	out->failed = true;
	out->err = e;
	return false;
}

/* A write failed during the run (its errno known): say so once, leave
 * nothing of -o FILE, close stdout without a second message. */
static int fail_known(struct audit_out *out)
{
	if (out->path == NULL) {
		msg_error("write error on standard output: %s", strerror(out->err));
		fclose(stdout);
		return -1;
	}
	rg_outfile_abort(&out->of);
	msg_error("%s: write error: %s; %s is left as it was", out->path,
	    strerror(out->err), out->path);
	return -1;
}

int audit_out_close(struct audit_out *out)
{
	char err[600];

	if (out->failed && out->err != 0)
		return fail_known(out);
	if (out->path == NULL)
		return rg_close_stdout();
	if (out->failed && !ferror(out->fp)) {	/* the report could not be built */
		rg_outfile_abort(&out->of);
		msg_error("%s: not written (the report could not be built)", out->path);
		return -1;
	}
	if (rg_outfile_commit(&out->of, err, sizeof(err)) != 0) {
		msg_error("%s; %s is left as it was", err, out->path);
		return -1;
	}
	return 0;
}
