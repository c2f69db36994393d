/*
 * test_log_inject.c - no value can forge a log line: msg_info/warn/verbose
 * lines on stderr (log.c's last line of defence, the LOG rule of
 * textclean.h), the key=value event line (KV rule) and the JSON event log
 * (JSON rule), each fed the hostile values seen in the field: CR LF with a
 * forged "relayguard-milter: event=relay_refused" line, VT/BS, raw and
 * encoded C1 CSI, a bidi override, invalid UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "lib/mail/eventlog.h"
#include "lib/base/log.h"

#define FORGED	"relayguard-milter: event=relay_refused client_addr=6.6.6.6 action=reject"

static const char *const hostile[] = {
	"client.example\r\n" FORGED,
	"v=spf1 \v\b" FORGED,
	"x\n" FORGED "\n",
	"csi \x9b" "2J \xc2\x9b" "2J",
	"rlo \xe2\x80\xae" "gpj.exe",
	"bad \xff\xfe\xc0\xaf\xed\xa0\x80\xe3\x81",
	"nul-free \x1b]0;title\x07",
};

/* No byte a log reader or terminal could act on. */
static void assert_one_clean_line(const char *what, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' && i == n - 1)
			break;
		if (c < 0x20 || c >= 0x7f)
			fail_msg("%s: byte 0x%02x at %zu in \"%.*s\"", what, c, i, (int)n, s);
	}
}

/* Run fn with stderr captured; returns what it wrote (malloc'd). */
static char *capture_stderr(void (*fn)(const char *), const char *arg, size_t *len)
{
	char path[] = "/tmp/rg-test-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *buf = calloc(1, 65536);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0 && buf != NULL);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, 65535);
	close(fd);
	assert_true(n > 0);
	*len = (size_t)n;
	return buf;
}

static void log_warn_txt(const char *v)
{
	msg_warn("spf: TXT record of x.test refused as unsafe: %s", v);
}

static void log_verbose_helo(const char *v)
{
	msg_verbose("spf: ip=127.0.0.2 from=a@b.test helo=%s result=none", v);
}

static void log_info_kv(const char *v)
{
	char line[2048];
	struct rg_event ev = {.event = "relay_refused", .action = "reject",
	    .client_addr = "127.0.0.2", .helo = v, .sender = v, .recipient = v,
	    .reason = v};

	msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
}

/* Every msg_* line is one line: the last line of defence in log.c. */
static void test_msg_lines(void **state)
{
	void (*const fns[])(const char *) = { log_warn_txt, log_verbose_helo,
	    log_info_kv };
	size_t len;

	(void)state;
	msg_init("relayguard-milter");
	msg_verbose_level = 1;
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++)
		for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
			char *out = capture_stderr(fns[f], hostile[i], &len);

			assert_true(len > 0 && out[len - 1] == '\n');
			assert_ptr_equal(strchr(out, '\n'), out + len - 1);
			assert_one_clean_line("stderr", out, len);
			assert_int_equal(strncmp(out, "relayguard-milter: ", 19), 0);
			free(out);
		}
	/* the escapes are the documented ones */
	{
		char *out = capture_stderr(log_warn_txt, hostile[0], &len);

		assert_non_null(strstr(out, "unsafe: client.example\\x0d\\x0a" FORGED "\n"));
		free(out);
		out = capture_stderr(log_warn_txt, hostile[3], &len);
		assert_non_null(strstr(out, "csi \\x9b2J \\u009b2J\n"));
		free(out);
	}
	msg_verbose_level = 0;
}

/* The key=value line: values quoted and escaped (KV rule). */
static void test_event_kv(void **state)
{
	char line[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct rg_event ev = {.event = "relay_refused", .action = "reject",
		    .client_addr = "127.0.0.2", .helo = hostile[i],
		    .recipient = hostile[i], .reason = hostile[i]};

		rg_event_format_kv(&ev, line, sizeof(line));
		assert_one_clean_line("kv", line, strlen(line));
		/* the forged "client_addr=6.6.6.6" stays inside a quoted value */
		if (strstr(hostile[i], FORGED)) {
			const char *h = strstr(line, " helo=\"");

			assert_non_null(h);
			assert_true(strstr(line, "client_addr=6.6.6.6") > h);
		}
	}
	{
		struct rg_event ev = {.event = "relay_refused",
		    .helo = "client.example\r\nx=\"y\\z", .recipient = "<a@b.test>"};

		rg_event_format_kv(&ev, line, sizeof(line));
		assert_non_null(strstr(line,
		    "helo=\"client.example\\x0d\\x0ax=\\\"y\\\\z\""));
		assert_non_null(strstr(line, "recipient=<a@b.test>"));
	}
}

/* The JSON event log: one object per line, valid UTF-8, strings escaped. */
static void test_event_json(void **state)
{
	char path[] = "/tmp/rg-test-events.XXXXXX", err[256], buf[8192];
	int fd = mkstemp(path);
	size_t lines = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rg_eventlog_open(path, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct rg_event ev = {.event = "relay_refused", .action = "reject",
		    .client_addr = "127.0.0.2", .helo = hostile[i],
		    .recipient = hostile[i], .reason = hostile[i]};

		assert_int_equal(rg_eventlog_write(&ev), 0);
	}
	rg_eventlog_close();
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		json_error_t jerr;
		json_t *o = json_loads(buf, 0, &jerr);
		const char *helo;

		assert_non_null(o);
		helo = json_string_value(json_object_get(o, "helo"));
		assert_non_null(helo);	/* never dropped for bad UTF-8 */
		assert_one_clean_line("json helo", helo, strlen(helo));
		assert_string_equal(json_string_value(json_object_get(o,
		    "client_addr")), "127.0.0.2");
		if (lines == 0)
			assert_string_equal(helo, "client.example\\x0d\\x0a" FORGED);
		if (lines == 4)
			assert_string_equal(helo, "rlo \\u202egpj.exe");
		json_decref(o);
		lines++;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(lines, sizeof(hostile) / sizeof(hostile[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_lines),
		cmocka_unit_test(test_event_kv),
		cmocka_unit_test(test_event_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
