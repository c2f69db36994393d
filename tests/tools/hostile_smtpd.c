/*
 * hostile_smtpd - a tiny misbehaving SMTP server for the auditor's robustness tests.
 *
 * SYNOPSIS
 *	hostile_smtpd MODE PORT [LIFETIME]
 *
 * DESCRIPTION
 *	Listens on 127.0.0.1:PORT, prints "ready" on stdout once listening (with
 *	PORT 0 the kernel picks the port and the line is "ready PORT"), then serves
 *	connections one at a time until killed. It exits by itself after LIFETIME
 *	seconds (default and maximum 120), so it can never outlive a test. An idle
 *	client (nothing sent for 30 s) is dropped; a client that disconnects at any
 *	point never kills the server (SIGPIPE is ignored).
 *
 *	Modes:
 *	garbage		greeting of random bytes and non-SMTP lines (HTTP, SSH, POP3),
 *			every command answered with junk (deterministic PRNG)
 *	endless		"220-" continuation lines forever, one per 10 ms
 *	bigline		a 1 MB greeting line "220 AAAA...", then CRLF, then as
 *			normal-reject
 *	silent		accepts, never writes, reads until the client leaves
 *	midclose	"220-first line\r\n", then closes
 *	drop-after-ehlo	good greeting; EHLO/HELO answered with half a line, then closes
 *	normal-reject	well-behaved control: 220, EHLO 250, MAIL 250, every RCPT
 *			"554 5.7.1 <rcpt>: Relay access denied", RSET 250, QUIT 221
 *	greylist	as normal-reject, but every RCPT gets "450 4.7.1 greylisted"
 *	tls-required	EHLO advertises STARTTLS; MAIL gets "530 5.7.0 Must issue a
 *			STARTTLS command first"; STARTTLS gets "454 4.7.0 TLS not
 *			available"
 *	accept-all-nodata  MAIL and RCPT get 250; DATA gets "554 5.7.1 no data
 *			accepted"
 *	nonmail-limit	as accept-all-nodata, EHLO offers PIPELINING, and like
 *			Exim's smtp_accept_max_nonmail (10): the 11th EHLO, HELO,
 *			RSET, NOOP or STARTTLS of a session gets "554 Too many
 *			nonmail commands" and the connection closes
 *	error-limit	MAIL 250, RCPT "550 5.7.1 <rcpt>: Relay access denied"; the
 *			command after the third rejected RCPT of a session gets
 *			"421 4.7.0 too many errors" and the connection is closed
 *
 *	exim-literal	like a default Exim: "MAIL FROM:<...@[IP]>" (a domain literal)
 *			gets "501 5.1.3 domain literals not allowed", other senders
 *			250; RCPT relays (250) recipients with '%' in them and
 *			postmaster@, refuses the rest (550 relay not permitted);
 *			DATA after an accepted RCPT gets 354
 *	helo-trust	like OpenSMTPD: a second EHLO/HELO in a session gets "503
 *			5.5.1 Invalid command: Already identified"; RCPT relays
 *			(250) for a client whose HELO is the server's own name
 *			(hostile.test), refuses it otherwise (554); DATA 354 after
 *			an accepted RCPT
 *
 *	sender-domain	greets and answers EHLO as mail.site.test; RCPT relays (250)
 *			when the sender is @DOMAIN exactly (DOMAIN from the environment
 *			variable HOSTILE_SENDER_DOMAIN, default site.test: the server's
 *			parent mail domain, like OpenSMTPD's match mail-from
 *			"@site.example" ... action "relay"), refuses it otherwise (554);
 *			DATA 354 after an accepted RCPT
 *
 *	escape		the greeting carries terminal escape sequences (ESC ]
 *			title, ESC [ 2J clear screen, BEL), the C1 CSI as a raw
 *			0x9b byte and as U+009B, a bidi override U+202E and
 *			invalid UTF-8; otherwise as normal-reject
 *
 *	japanese	an open relay that speaks Japanese (UTF-8): the greeting
 *			"220 hostile.test ESMTP 日本語メールサーバへようこそ",
 *			every RCPT "250 2.1.5 受信者を受け付けました", DATA "354"
 *			(reports must keep this text, never turn it into '?')
 *
 *	extra-line	as normal-reject, EHLO offers PIPELINING; a MAIL that came
 *			pipelined (more commands already received) is answered
 *			"250 2.1.0 Ok" plus an unsolicited "250 2.0.0 Ok" in the
 *			same write: every later reply lands on the wrong command
 *			unless the client notices; lock-step clients see nothing odd
 *
 *	resolver-literal like a stock Haraka (mail_from.is_resolvable): "MAIL
 *			FROM:<...@[IP]>" (an address literal) gets "450 Temp.
 *			resolver error (EBADNAME)", other senders 250; every RCPT
 *			refused as in normal-reject (a closed server)
 *	greet-421	every connection greeted "421 4.7.0 hostile.test busy, try
 *			again later"; then 503 to everything but QUIT (221)
 *	greet-421-close	the same greeting, then the connection closes at once,
 *			without reading QUIT
 *	unsolicited-start  as normal-reject, but an unsolicited "250 2.0.0 Ok"
 *			follows the greeting in the same write: every later reply
 *			lands on the wrong command (EHLO gets the 250, MAIL the
 *			EHLO reply, RCPT the MAIL reply...) unless the client
 *			notices; every reply takes 50 ms (a server doing DNS
 *			lookups), so the real one is never there early
 *	extra-after-reply  as normal-reject, but every EHLO reply is followed by
 *			an unsolicited "250 2.0.0 Ok" in the same write
 *	reset-pipelined	an open relay (RCPT 250 except for .invalid domains, DATA
 *			354) that offers PIPELINING but resets the connection (RST)
 *			when a command arrives with more already received (a
 *			pipelined group): lock-step clients see the relay
 *	huge-reply	as normal-reject, but every reply but EHLO's is 99 lines:
 *			98 continuation lines of 1990 bytes, then the real line
 *			(a server that fills the auditor's transcript)
 *	slow-dot	an open relay (every RCPT 250, DATA 354) that takes its
 *			time over a message: after the final dot it delivers the
 *			message into the Maildir $HOSTILE_MAILDIR (when set: tmp/,
 *			then renamed into new/), then waits $HOSTILE_DOT_DELAY
 *			seconds (default 30) before "250 2.0.0 queued"
 *
 *	any-local-part	like Courier or Haraka with a catch-all: every RCPT
 *			whose domain (after the last '@', or the source route
 *			"<@NAME:...>") is one of its own names (its host name,
 *			localhost, [127.0.0.1]) gets 250, whatever the local part
 *			("x%victim@NAME" too: delivered locally), DATA 354; any
 *			other recipient "554 relay access denied" (a closed server)
 *
 *	tarpit		like Debian's Courier (TARPIT=1, couriertcpd -maxperip):
 *			as normal-reject with PIPELINING offered, but every error
 *			reply (4xx, 5xx) is written late: $HOSTILE_TARPIT seconds
 *			(default 2) for the first of a session, twice as long for
 *			each further one (Courier: 8 s, 16 s, 32 s ...), but for
 *			a RCPT to a bare path ("RCPT TO:a@b"): "554 Syntax error"
 *			at once, and the sleep before the session's next reply
 *			instead (Courier's way); connections are served at once,
 *			each by a process of its own, and one that comes while
 *			$HOSTILE_MAXPERIP (default 5) are being served is closed
 *			at once, without a greeting and without a 421
 *	tarpit-open	as tarpit, on an open relay as Courier's "open" profile
 *			(tests/integration/165_audit_courier.sh), its EHLO naming
 *			Courier ("250-XVERP=Courier"): MAIL from a path
 *			with "@[" or "!" gets "517 Syntax error.", RCPT to one
 *			with "%", "!", a quote, a source route or ".invalid"
 *			"513 Syntax error." (both late); every other recipient
 *			250, DATA 354
 *	close-at-greeting-when-busy  as normal-reject, with the concurrency and
 *			the silent close at the greeting of tarpit
 *			($HOSTILE_MAXPERIP, default 2), and no tarpit
 *	count-sessions	as normal-reject, every connection served by a child of
 *			its own, on 127.0.0.1 .. 127.0.0.$HOSTILE_ADDRS (default 1,
 *			at most 32) at the one PORT; for each connection it prints
 *			"count-sessions: N open at once (most M)" on stderr: the
 *			connections whose client has not closed yet (a client's
 *			FIN on loopback is in before its next SYN, so N is exact)
 *
 *	Each connection is logged on stderr as one line.
 */

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOSTNAME	"hostile.test"
#define IDLE_MS		30000		/* drop a client silent for this long */
#define WRITE_MS	10000		/* drop a client that reads nothing this long */
#define MAX_LIFETIME	120
#define BIGLINE_LEN	(1024 * 1024)
#define ERROR_LIMIT	3
#define MIDCLOSE_LINE	"220-first line\r\n"

enum mode {
	M_GARBAGE, M_ENDLESS, M_BIGLINE, M_SILENT, M_MIDCLOSE, M_DROP_AFTER_EHLO,
	M_NORMAL_REJECT, M_GREYLIST, M_TLS_REQUIRED, M_ACCEPT_ALL_NODATA,
	M_ERROR_LIMIT, M_ESCAPE, M_JAPANESE, M_EXIM_LITERAL, M_HELO_TRUST,
	M_SENDER_DOMAIN, M_EXTRA_LINE, M_GREET554, M_HELOREJ, M_GREET554_LATER,
	M_DATAREFUSE, M_TLS_GARBAGE, M_NONMAIL_LIMIT, M_RESOLVER_LITERAL,
	M_GREET421, M_GREET421_CLOSE, M_UNSOLICITED_START, M_EXTRA_AFTER_REPLY,
	M_RESET_PIPELINED, M_HUGE_REPLY, M_SLOW_DOT, M_ANY_LOCAL,
	M_TARPIT, M_TARPIT_OPEN, M_CLOSE_BUSY, M_COUNT_SESSIONS,
};

static const struct {
	const char *name;
	enum mode mode;
} mode_table[] = {
	{"garbage", M_GARBAGE},
	{"endless", M_ENDLESS},
	{"bigline", M_BIGLINE},
	{"silent", M_SILENT},
	{"midclose", M_MIDCLOSE},
	{"drop-after-ehlo", M_DROP_AFTER_EHLO},
	{"normal-reject", M_NORMAL_REJECT},
	{"greylist", M_GREYLIST},
	{"tls-required", M_TLS_REQUIRED},
	{"accept-all-nodata", M_ACCEPT_ALL_NODATA},
	{"error-limit", M_ERROR_LIMIT},
	{"escape", M_ESCAPE},
	{"japanese", M_JAPANESE},
	{"exim-literal", M_EXIM_LITERAL},
	{"helo-trust", M_HELO_TRUST},
	{"sender-domain", M_SENDER_DOMAIN},
	{"extra-line", M_EXTRA_LINE},
	{"greet554", M_GREET554},		/* 554 greeting: session refused */
	{"helorej", M_HELOREJ},			/* EHLO and HELO refused 550 */
	{"greet554later", M_GREET554_LATER},	/* first session fine, then 554 */
	{"datarefuse", M_DATAREFUSE},		/* outside RCPTs 250, DATA 554 */
	{"tls-garbage", M_TLS_GARBAGE},		/* STARTTLS 220, then not TLS */
	{"nonmail-limit", M_NONMAIL_LIMIT},	/* Exim's smtp_accept_max_nonmail */
	{"resolver-literal", M_RESOLVER_LITERAL},	/* Haraka: 450 to a literal sender */
	{"greet-421", M_GREET421},		/* 421 busy greeting, waits for QUIT */
	{"greet-421-close", M_GREET421_CLOSE},	/* 421 busy greeting, closes at once */
	{"unsolicited-start", M_UNSOLICITED_START},	/* a line after the greeting */
	{"extra-after-reply", M_EXTRA_AFTER_REPLY},	/* a line after EHLO's reply */
	{"reset-pipelined", M_RESET_PIPELINED},	/* RST on a pipelined group */
	{"huge-reply", M_HUGE_REPLY},		/* 99-line replies of 2 KB lines */
	{"slow-dot", M_SLOW_DOT},		/* open relay, slow after the dot */
	{"any-local-part", M_ANY_LOCAL},	/* Courier: any local part of its names */
	{"tarpit", M_TARPIT},			/* Courier's TARPIT: slow errors */
	{"tarpit-open", M_TARPIT_OPEN},		/* and an open relay, fast 554 */
	{"close-at-greeting-when-busy", M_CLOSE_BUSY},	/* couriertcpd -maxperip */
	{"count-sessions", M_COUNT_SESSIONS},	/* counts connections at once */
};

/* Connections accepted so far (greet554later refuses all but the first). */
static unsigned long nconn;

/* The name in the greeting and EHLO reply (sender-domain: mail.site.test). */
static const char *server_name = HOSTNAME;

/* One client connection: socket, input buffer, SMTP session state. */
struct conn {
	int	fd;
	char	in[4096];
	size_t	in_len;
	int	have_mail;
	unsigned rejected_rcpts;
	int	have_rcpt;
	char	sender[512];
	int	hellos;		/* EHLO/HELO answered 250 in this session */
	int	nonmail;	/* EHLO, HELO, RSET, NOOP, STARTTLS so far */
	char	helo[256];
	const char *end_reason;
	unsigned errors;	/* tarpit: error replies so far */
	int	fast_error;	/* tarpit-open: this error at once, the next reply late */
	int	sleep_owed;	/* tarpit-open: the next reply sleeps first */
};

static uint32_t prng_state = 0x2545f491u;

static uint32_t
prng_next(void)
{
	uint32_t x = prng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	prng_state = x;
	return x;
}

/* Wait until fd is ready for events; 1 ready, 0 timeout, -1 error or hangup. */
static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if (pfd.revents & (events | POLLHUP | POLLERR))
		return (pfd.revents & events) ? 1 : -1;
	return -1;
}

static int send_all(struct conn *c, const void *buf, size_t len);

/* huge-reply: continuation lines before every last line of a reply
 * (not inside EHLO's reply, which has several lines of its own) */
static int pad_replies, in_ehlo;
/* tarpit: seconds before every error reply */
static int tarpit_seconds;
#define PAD_LINES	98
#define PAD_LEN		1990

static int
send_padding(struct conn *c, const char *code)
{
	static char line[PAD_LEN + 2];

	memset(line, 'x', PAD_LEN);
	memcpy(line, code, 3);
	line[3] = '-';
	line[PAD_LEN] = '\r';
	line[PAD_LEN + 1] = '\n';
	for (int i = 0; i < PAD_LINES; i++)
		if (send_all(c, line, sizeof(line)) < 0)
			return -1;
	return 0;
}

static int
send_all(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;
		int r = wait_fd(c->fd, POLLOUT, WRITE_MS);

		if (r <= 0) {
			c->end_reason = r == 0 ? "client stopped reading" : "client gone (write)";
			return -1;
		}
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			c->end_reason = "client gone (write)";
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

__attribute__((format(printf, 2, 3)))
static int
reply(struct conn *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(buf) - 3)
		n = (int)(sizeof(buf) - 3);
	buf[n++] = '\r';
	buf[n++] = '\n';
	if (tarpit_seconds > 0 && (c->sleep_owed || buf[0] == '4' || buf[0] == '5')) {
		c->sleep_owed = c->fast_error;
		if (!c->fast_error)
			sleep((unsigned)tarpit_seconds << (c->errors < 6 ? c->errors++ : 6));
		c->fast_error = 0;
	}
	if (pad_replies && !in_ehlo && n > 4 && buf[3] == ' ' && send_padding(c, buf) < 0)
		return -1;
	return send_all(c, buf, (size_t)n);
}

/*
 * Read one line (LF-terminated, CR stripped) into line. A line longer than the
 * input buffer is returned in pieces. Returns its length, -1 on EOF, error or
 * IDLE_MS of silence.
 */
static int
read_line(struct conn *c, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t take, copy;
		ssize_t n;
		int r;

		if (nl != NULL || c->in_len == sizeof(c->in)) {
			take = nl ? (size_t)(nl - c->in) + 1 : c->in_len;
			copy = nl ? take - 1 : take;
			if (copy > 0 && c->in[copy - 1] == '\r')
				copy--;
			if (copy > cap - 1)
				copy = cap - 1;
			memcpy(line, c->in, copy);
			line[copy] = '\0';
			memmove(c->in, c->in + take, c->in_len - take);
			c->in_len -= take;
			return (int)copy;
		}
		r = wait_fd(c->fd, POLLIN, IDLE_MS);
		if (r <= 0) {
			c->end_reason = r == 0 ? "client idle" : "client gone (read)";
			return -1;
		}
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			c->end_reason = "client closed";
			return -1;
		}
		c->in_len += (size_t)n;
	}
}

/* Discard input until the client closes; with wait_ms > 0 give up after that. */
static void
drain(struct conn *c, int wait_ms)
{
	char buf[4096];

	for (;;) {
		int r = wait_fd(c->fd, POLLIN, wait_ms > 0 ? wait_ms : -1);
		ssize_t n;

		if (r <= 0) {
			c->end_reason = r == 0 ? "client idle" : "client gone";
			return;
		}
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			c->end_reason = "client closed";
			return;
		}
	}
}

/* The verb of an SMTP command line, upper-cased, at most cap-1 characters. */
static void
command_verb(const char *line, char *verb, size_t cap)
{
	size_t i = 0;

	while (line[i] != '\0' && line[i] != ' ' && line[i] != ':' && i < cap - 1) {
		char ch = line[i];

		verb[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
		i++;
	}
	verb[i] = '\0';
}

/* The <path> argument of MAIL FROM: / RCPT TO:, or the empty string. */
static void
command_path(const char *line, char *path, size_t cap)
{
	const char *lt = strchr(line, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	size_t n;

	path[0] = '\0';
	if (lt == NULL || gt == NULL)
		return;
	n = (size_t)(gt - lt + 1);
	if (n > cap - 1)
		n = cap - 1;
	memcpy(path, lt, n);
	path[n] = '\0';
}

static int ehlo_lines(struct conn *c, enum mode mode);

static int
ehlo_reply(struct conn *c, enum mode mode)
{
	int r;

	in_ehlo = 1;
	r = ehlo_lines(c, mode);
	in_ehlo = 0;
	return r;
}

static int
ehlo_lines(struct conn *c, enum mode mode)
{
	if (reply(c, "250-%s", server_name) < 0)
		return -1;
	if ((mode == M_TLS_REQUIRED || mode == M_TLS_GARBAGE) &&
	    reply(c, "250-STARTTLS") < 0)
		return -1;
	if ((mode == M_EXTRA_LINE || mode == M_NONMAIL_LIMIT ||
	    mode == M_RESET_PIPELINED || mode == M_TARPIT || mode == M_TARPIT_OPEN) &&
	    reply(c, "250-PIPELINING") < 0)
		return -1;
	if (mode == M_TARPIT_OPEN && reply(c, "250-XVERP=Courier") < 0)
		return -1;
	if (reply(c, "250-8BITMIME") < 0)
		return -1;
	if (mode == M_EXTRA_AFTER_REPLY)	/* one write: the client sees both */
		return reply(c, "250 ENHANCEDSTATUSCODES\r\n250 2.0.0 Ok");
	return reply(c, "250 ENHANCEDSTATUSCODES");
}

/* any-local-part: is the recipient's domain (or source route) our own name? */
static int
own_name_rcpt(const char *path)
{
	static const char *const own[] = {"localhost", "[127.0.0.1]"};
	const char *s = path + (path[0] == '<'), *end, *at;
	size_t n;

	if (s[0] == '@') {
		s++;
		end = strchr(s, ':');
	} else if ((at = strrchr(s, '@')) != NULL) {
		s = at + 1;
		end = strchr(s, '>');
	} else {
		return 0;
	}
	n = end ? (size_t)(end - s) : strlen(s);
	if (n == strlen(server_name) && strncasecmp(s, server_name, n) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (n == strlen(own[i]) && strncasecmp(s, own[i], n) == 0)
			return 1;
	return 0;
}

static int
rcpt_reply(struct conn *c, enum mode mode, const char *path)
{
	if (!c->have_mail)
		return reply(c, "503 5.5.1 Error: need MAIL command");
	if ((mode == M_TARPIT || mode == M_TARPIT_OPEN) && path[0] == '\0') {
		c->fast_error = 1;	/* Courier: at once, the next reply late */
		return reply(c, "554 Syntax error - your mail software violates RFC 821.");
	}
	switch (mode) {
	case M_GREYLIST:
		return reply(c, "450 4.7.1 greylisted");
	case M_ACCEPT_ALL_NODATA:
	case M_NONMAIL_LIMIT:
		return reply(c, "250 2.1.5 Ok");
	case M_SLOW_DOT:
		c->have_rcpt = 1;
		return reply(c, "250 2.1.5 Ok");
	case M_JAPANESE:
		return reply(c, "250 2.1.5 受信者を受け付けました");
	case M_ERROR_LIMIT:
		c->rejected_rcpts++;
		return reply(c, "550 5.7.1 %s: Relay access denied", path);
	case M_EXIM_LITERAL:
		if (strchr(path, '%') != NULL || strncasecmp(path, "<postmaster@", 12) == 0) {
			c->have_rcpt = 1;
			return reply(c, "250 Accepted");
		}
		return reply(c, "550 relay not permitted");
	case M_SENDER_DOMAIN: {
		const char *dom = getenv("HOSTILE_SENDER_DOMAIN");
		char want[300];
		size_t sl = strlen(c->sender), wl;

		snprintf(want, sizeof(want), "@%s>", dom && *dom ? dom : "site.test");
		wl = strlen(want);
		if (sl >= wl && strcasecmp(c->sender + sl - wl, want) == 0) {
			c->have_rcpt = 1;
			return reply(c, "250 2.1.5 Ok");
		}
		return reply(c, "554 5.7.1 %s: Relay access denied", path);
	}
	case M_DATAREFUSE:
	case M_RESET_PIPELINED:
		if (strstr(path, ".invalid") != NULL)
			return reply(c, "550 5.1.2 %s: bad domain", path);
		c->have_rcpt = 1;
		return reply(c, "250 2.1.5 Ok");
	case M_ANY_LOCAL:
		if (own_name_rcpt(path)) {
			c->have_rcpt = 1;
			return reply(c, "250 Ok.");
		}
		return reply(c, "554 5.7.1 %s: Relay access denied", path);
	case M_TARPIT_OPEN:
		if (strpbrk(path, "%!\"") != NULL || strncmp(path, "<@", 2) == 0 ||
		    strstr(path, ".invalid") != NULL)
			return reply(c, "513 Syntax error.");
		c->have_rcpt = 1;
		return reply(c, "250 Ok.");
	case M_HELO_TRUST:
		if (strcasecmp(c->helo, HOSTNAME) == 0) {
			c->have_rcpt = 1;
			return reply(c, "250 2.1.5 Recipient ok");
		}
		return reply(c, "554 5.7.1 %s: Relay access denied", path);
	default:
		return reply(c, "554 5.7.1 %s: Relay access denied", path);
	}
}

/* Close with an RST (SO_LINGER 0) instead of a FIN when the caller closes. */
static void
reset_connection(struct conn *c)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	c->end_reason = "reset on a pipelined group";
}

/* slow-dot: the message into $HOSTILE_MAILDIR, as a delivery agent would. */
static void
deliver(const char *msg, size_t len)
{
	const char *md = getenv("HOSTILE_MAILDIR");
	char tmp[4096], dst[4096];
	FILE *f;

	if (md == NULL || *md == '\0')
		return;
	snprintf(tmp, sizeof(tmp), "%s/tmp", md);
	mkdir(tmp, 0755);
	snprintf(dst, sizeof(dst), "%s/new", md);
	mkdir(dst, 0755);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%ld.%lu.hostile", md, (long)time(NULL), nconn);
	snprintf(dst, sizeof(dst), "%s/new/%ld.%lu.hostile", md, (long)time(NULL), nconn);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	if (fwrite(msg, 1, len, f) != len) {
		fclose(f);
		unlink(tmp);
		return;
	}
	if (fclose(f) == 0)
		rename(tmp, dst);
}

/* slow-dot: 354, the message up to its dot, delivery, the slow reply. */
static int
take_message(struct conn *c)
{
	char line[1024], *msg = NULL;
	size_t len = 0;
	const char *d = getenv("HOSTILE_DOT_DELAY");
	int delay = d && *d ? atoi(d) : 30, r = -1;

	if (reply(c, "354 Enter message, ending with \".\" on a line by itself") < 0)
		return -1;
	while (read_line(c, line, sizeof(line)) >= 0) {
		size_t n = strlen(line);
		char *grown;

		if (strcmp(line, ".") == 0) {
			deliver(msg ? msg : "", len);
			sleep((unsigned)(delay > 0 && delay < MAX_LIFETIME ? delay : 0));
			r = reply(c, "250 2.0.0 queued");
			break;
		}
		if (len + n + 2 > 1024 * 1024 || (grown = realloc(msg, len + n + 2)) == NULL)
			break;
		msg = grown;
		memcpy(msg + len, line, n);
		len += n;
		msg[len++] = '\n';
	}
	free(msg);
	c->have_mail = c->have_rcpt = 0;
	return r;
}

/* The SMTP dialogue after the greeting, for the well-behaved modes. */
static void
dialogue(struct conn *c, enum mode mode)
{
	char line[1024], verb[16], path[512];

	while (read_line(c, line, sizeof(line)) >= 0) {
		int r;

		command_verb(line, verb, sizeof(verb));
		command_path(line, path, sizeof(path));
		if (mode == M_UNSOLICITED_START)
			poll(NULL, 0, 50);
		if (mode == M_RESET_PIPELINED && c->in_len > 0) {
			reset_connection(c);
			return;
		}
		if (mode == M_ERROR_LIMIT && c->rejected_rcpts >= ERROR_LIMIT) {
			reply(c, "421 4.7.0 too many errors");
			c->end_reason = "error limit";
			return;
		}
		if (mode == M_NONMAIL_LIMIT && (strcmp(verb, "EHLO") == 0 ||
		    strcmp(verb, "HELO") == 0 || strcmp(verb, "RSET") == 0 ||
		    strcmp(verb, "NOOP") == 0 || strcmp(verb, "STARTTLS") == 0) &&
		    ++c->nonmail > 10) {
			reply(c, "554 Too many nonmail commands");
			c->end_reason = "nonmail limit";
			return;
		}
		if ((strcmp(verb, "EHLO") == 0 || strcmp(verb, "HELO") == 0) &&
		    mode == M_HELOREJ) {
			r = reply(c, "550 5.7.1 HELO rejected");
		} else if ((strcmp(verb, "EHLO") == 0 || strcmp(verb, "HELO") == 0) &&
		    mode == M_HELO_TRUST && c->hellos > 0) {
			r = reply(c, "503 5.5.1 Invalid command: Already identified");
		} else if (strcmp(verb, "EHLO") == 0) {
			c->have_mail = c->have_rcpt = 0;
			c->hellos++;
			snprintf(c->helo, sizeof(c->helo), "%s", line[4] ? line + 5 : "");
			r = ehlo_reply(c, mode);
		} else if (strcmp(verb, "HELO") == 0) {
			c->have_mail = c->have_rcpt = 0;
			c->hellos++;
			snprintf(c->helo, sizeof(c->helo), "%s", line[4] ? line + 5 : "");
			r = reply(c, "250 %s", server_name);
		} else if (strcmp(verb, "MAIL") == 0) {
			if (mode == M_EXIM_LITERAL && strstr(path, "@[") != NULL) {
				r = reply(c, "501 5.1.3 %s: domain literals not allowed", path);
			} else if (mode == M_RESOLVER_LITERAL && strstr(path, "@[") != NULL) {
				r = reply(c, "450 Temp. resolver error (EBADNAME)");
			} else if (mode == M_TLS_REQUIRED) {
				r = reply(c, "530 5.7.0 Must issue a STARTTLS command first");
			} else if (mode == M_TARPIT_OPEN && strpbrk(path, "[!") != NULL) {
				r = reply(c, "517 Syntax error.");
			} else if (c->have_mail) {
				r = reply(c, "503 5.5.1 Error: nested MAIL command");
			} else {
				c->have_mail = 1;
				snprintf(c->sender, sizeof(c->sender), "%s", path);
				if (mode == M_EXTRA_LINE && c->in_len > 0)	/* pipelined */
					r = reply(c, "250 2.1.0 Ok\r\n250 2.0.0 Ok");
				else
					r = reply(c, "250 2.1.0 Ok");
			}
		} else if (strcmp(verb, "RCPT") == 0) {
			r = rcpt_reply(c, mode, path);
		} else if (strcmp(verb, "DATA") == 0) {
			if (mode == M_DATAREFUSE && c->have_rcpt)
				r = reply(c, "554 5.7.1 relaying denied at DATA");
			else if (c->have_rcpt && mode == M_SLOW_DOT)
				r = take_message(c);
			else if (c->have_rcpt)
				r = reply(c, "354 Enter message, ending with \".\" on a line by itself");
			else if (mode == M_ACCEPT_ALL_NODATA && c->have_mail)
				r = reply(c, "554 5.7.1 no data accepted");
			else if (mode == M_JAPANESE && c->have_mail)
				r = reply(c, "354 本文を入力してください。最後は \".\" だけの行です");
			else if (!c->have_mail)
				r = reply(c, "503 5.5.1 Error: need RCPT command");
			else
				r = reply(c, "554 5.5.1 Error: no valid recipients");
		} else if (strcmp(verb, "STARTTLS") == 0 && mode == M_TLS_GARBAGE) {
			static const char junk[] = "220 2.0.0 Ready to start TLS\r\n"
			    "HTTP/1.0 400 Bad Request\r\n\r\n";

			send_all(c, junk, sizeof(junk) - 1);
			c->end_reason = "garbage instead of a TLS handshake";
			return;
		} else if (strcmp(verb, "STARTTLS") == 0) {
			r = mode == M_TLS_REQUIRED ?
			    reply(c, "454 4.7.0 TLS not available") :
			    reply(c, "502 5.5.1 Error: command not implemented");
		} else if (strcmp(verb, "RSET") == 0) {
			c->have_mail = c->have_rcpt = 0;
			r = reply(c, "250 2.0.0 Ok");
		} else if (strcmp(verb, "NOOP") == 0) {
			r = reply(c, "250 2.0.0 Ok");
		} else if (strcmp(verb, "VRFY") == 0) {
			r = reply(c, "252 2.0.0 Send some mail, I'll try my best");
		} else if (strcmp(verb, "QUIT") == 0) {
			reply(c, "221 2.0.0 Bye");
			c->end_reason = "QUIT";
			return;
		} else {
			r = reply(c, "502 5.5.2 Error: command not recognized");
		}
		if (r < 0)
			return;
	}
}

static int
greet(struct conn *c, const char *mode_name)
{
	return reply(c, "220 %s ESMTP hostile_smtpd %s", server_name, mode_name);
}

static void
serve_garbage(struct conn *c)
{
	static const char *const lines[] = {
		"HTTP/1.1 400 Bad Request",
		"SSH-2.0-OpenSSH_9.2p1 Debian-2",
		"+OK POP3 server ready",
		"* OK IMAP4rev1 Service Ready",
		"2200 almost a greeting",
		"22O not a code",
		"220",
		"-220 dash first",
	};
	char junk[128], line[1024];
	size_t i, j;

	for (i = 0; i < 12; i++) {
		for (j = 0; j < sizeof(junk); j++)
			junk[j] = (char)(prng_next() & 0xff);
		if (send_all(c, junk, sizeof(junk)) < 0 || send_all(c, "\r\n", 2) < 0)
			return;
		if (reply(c, "%s", lines[i % (sizeof(lines) / sizeof(lines[0]))]) < 0)
			return;
	}
	while (read_line(c, line, sizeof(line)) >= 0) {
		for (j = 0; j < 48; j++)
			junk[j] = (char)(prng_next() & 0xff);
		if (send_all(c, junk, 48) < 0 || send_all(c, "\n", 1) < 0)
			return;
	}
}

static void
serve_endless(struct conn *c)
{
	char buf[512];
	unsigned long n;

	for (n = 1;; n++) {
		int r;

		if (reply(c, "220-%s endless greeting line %lu", HOSTNAME, n) < 0)
			return;
		r = wait_fd(c->fd, POLLIN, 10);
		if (r < 0) {
			c->end_reason = "client gone";
			return;
		}
		if (r > 0) {
			ssize_t got = recv(c->fd, buf, sizeof(buf), 0);

			if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
				c->end_reason = "client closed";
				return;
			}
		}
	}
}

static void
serve_bigline(struct conn *c)
{
	char *big = malloc(BIGLINE_LEN + 6);

	if (big == NULL) {
		c->end_reason = "out of memory";
		return;
	}
	memcpy(big, "220 ", 4);
	memset(big + 4, 'A', BIGLINE_LEN);
	memcpy(big + 4 + BIGLINE_LEN, "\r\n", 2);
	if (send_all(c, big, BIGLINE_LEN + 6) == 0)
		dialogue(c, M_NORMAL_REJECT);
	free(big);
}

static void
serve_drop_after_ehlo(struct conn *c)
{
	char line[1024], verb[16];

	if (greet(c, "drop-after-ehlo") < 0)
		return;
	while (read_line(c, line, sizeof(line)) >= 0) {
		command_verb(line, verb, sizeof(verb));
		if (strcmp(verb, "EHLO") == 0 || strcmp(verb, "HELO") == 0) {
			static const char half[] = "250-" HOSTNAME " hal";

			send_all(c, half, sizeof(half) - 1);
			c->end_reason = "dropped after EHLO";
			return;
		}
		if (reply(c, "503 5.5.1 Error: send HELO/EHLO first") < 0)
			return;
	}
}


/* A session refused at the greeting: 503 to everything but QUIT. */
static void
serve_refused(struct conn *c, const char *greeting)
{
	char line[1024], verb[16];

	if (reply(c, "%s", greeting) < 0)
		return;
	while (read_line(c, line, sizeof(line)) >= 0) {
		command_verb(line, verb, sizeof(verb));
		if (strcmp(verb, "QUIT") == 0) {
			reply(c, "221 2.0.0 Bye");
			c->end_reason = "QUIT after a refused greeting";
			return;
		}
		if (reply(c, "503 5.5.1 Error: session refused") < 0)
			return;
	}
}

static void
serve(struct conn *c, enum mode mode, const char *mode_name)
{
	switch (mode) {
	case M_GREET554:
		serve_refused(c, "554 5.7.1 blocked by policy");
		break;
	case M_GREET554_LATER:
		if (nconn > 1)
			serve_refused(c, "554 5.7.1 too many connections");
		else if (greet(c, mode_name) == 0)
			dialogue(c, mode);
		break;
	case M_GREET421:
		serve_refused(c, "421 4.7.0 " HOSTNAME " busy, try again later");
		break;
	case M_GREET421_CLOSE:
		if (reply(c, "421 4.7.0 %s busy, try again later", HOSTNAME) == 0)
			c->end_reason = "closed after a 421 greeting";
		break;
	case M_UNSOLICITED_START:
		if (reply(c, "220 %s ESMTP hostile_smtpd %s\r\n250 2.0.0 Ok", server_name,
		    mode_name) == 0)
			dialogue(c, mode);
		break;
	case M_GARBAGE:
		serve_garbage(c);
		break;
	case M_ENDLESS:
		serve_endless(c);
		break;
	case M_BIGLINE:
		serve_bigline(c);
		break;
	case M_SILENT:
		drain(c, 0);
		break;
	case M_MIDCLOSE:
		if (send_all(c, MIDCLOSE_LINE, sizeof(MIDCLOSE_LINE) - 1) == 0)
			c->end_reason = "closed mid-greeting";
		break;
	case M_DROP_AFTER_EHLO:
		serve_drop_after_ehlo(c);
		break;
	case M_ESCAPE: {
		/* ESC ] title, BEL, ESC [ 2J; the 8-bit CSI 0x9b raw and as
		 * U+009B; a right-to-left override U+202E; invalid UTF-8 (ff fe,
		 * an overlong '/' c0 af, a truncated e3 81) */
		static const char esc[] = "220 " HOSTNAME
		    " \033]0;pwned\007\033[2J \x9b" "31m \xc2\x9b" "32m "
		    "\xe2\x80\xae" "desrever \xff\xfe\xc0\xaf\xe3\x81 ESMTP\r\n";

		if (send_all(c, esc, sizeof(esc) - 1) == 0)
			dialogue(c, M_NORMAL_REJECT);
		break;
	}
	case M_JAPANESE:
		if (reply(c, "220 %s ESMTP 日本語メールサーバへようこそ", HOSTNAME) == 0)
			dialogue(c, mode);
		break;
	case M_NORMAL_REJECT:
	case M_GREYLIST:
	case M_TLS_REQUIRED:
	case M_ACCEPT_ALL_NODATA:
	case M_NONMAIL_LIMIT:
	case M_ERROR_LIMIT:
	case M_EXIM_LITERAL:
	case M_HELO_TRUST:
	case M_EXTRA_LINE:
	case M_SENDER_DOMAIN:
	case M_HELOREJ:
	case M_DATAREFUSE:
	case M_TLS_GARBAGE:
	case M_RESOLVER_LITERAL:
	case M_EXTRA_AFTER_REPLY:
	case M_RESET_PIPELINED:
	case M_HUGE_REPLY:
	case M_SLOW_DOT:
	case M_ANY_LOCAL:
	case M_TARPIT:
	case M_TARPIT_OPEN:
	case M_CLOSE_BUSY:
	case M_COUNT_SESSIONS:
		if (greet(c, mode_name) == 0)
			dialogue(c, mode);
		break;
	}
}

/* An integer from the environment, or def. */
static int
env_int(const char *name, int def, int max)
{
	const char *v = getenv(name);
	int n = v && *v ? atoi(v) : def;

	return n < 0 ? 0 : n > max ? max : n;
}

/* tarpit, close-at-greeting-when-busy: the children serving now. */
static int busy_children;

static void
reap_children(void)
{
	while (busy_children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
		busy_children--;
}

/*
 * Like couriertcpd -maxperip: each connection is served by a child of its
 * own; one that comes while max are served is closed at once, no greeting,
 * no 421. A child ends with its parent (PR_SET_PDEATHSIG) and within
 * MAX_LIFETIME. 1: served or closed here; 0: serve in this process.
 */
static int
serve_concurrent(struct conn *c, enum mode mode, const char *mode_name, int max)
{
	pid_t pid;

	reap_children();
	if (busy_children >= max) {
		c->end_reason = "closed at the greeting: too many connections";
		return 1;
	}
	if ((pid = fork()) < 0)
		return 0;
	if (pid > 0) {
		busy_children++;
		c->end_reason = "served by a child";
		return 1;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	alarm(MAX_LIFETIME);
	serve(c, mode, mode_name);
	fprintf(stderr, "hostile_smtpd: %s: connection %lu (child): %s\n", mode_name,
	    nconn, c->end_reason);
	_exit(0);
}

static int
listen_loopback(unsigned port, unsigned *bound)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0
	    || getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sin.sin_port);
	return fd;
}

/* count-sessions: listen on 127.0.0.1 .. 127.0.0.n at port (0: the kernel
 * picks it for the first, the others follow). The count of listeners. */
#define COUNT_ADDRS_MAX	32
#define COUNT_OPEN_MAX	1024

static int
listen_count(unsigned port, int n, int *lfds, unsigned *bound)
{
	int i;

	for (i = 0; i < n; i++) {
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)(i == 0 ? port : *bound));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)i);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    listen(fd, 128) < 0 || getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
			close(fd);
			return -1;
		}
		*bound = ntohs(sin.sin_port);
		lfds[i] = fd;
	}
	return n;
}

/* Of the connections kept open, drop those whose client has closed: n left. */
static int
count_open(int *open_fds, int n)
{
	int i = 0;

	while (i < n) {
		struct pollfd p = {.fd = open_fds[i], .events = POLLRDHUP};

		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			close(open_fds[i]);
			open_fds[i] = open_fds[--n];
		} else {
			i++;
		}
	}
	return n;
}

/* The child: serves one connection as normal-reject and ends. */
static void
count_child(int fd, const int *lfds, int nl, const int *open_fds, int nopen)
{
	struct conn c = {.fd = fd, .end_reason = "done"};
	int i;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	alarm(MAX_LIFETIME);
	for (i = 0; i < nl; i++)
		close(lfds[i]);
	for (i = 0; i < nopen; i++)
		close(open_fds[i]);
	if (greet(&c, "count-sessions") == 0)
		dialogue(&c, M_NORMAL_REJECT);
	/* the parent holds the socket too (to see the client close): the
	 * FIN a server sends after its 221 goes out now, not at the end */
	shutdown(fd, SHUT_WR);
	_exit(0);
}

static int
serve_count_sessions(unsigned port)
{
	int lfds[COUNT_ADDRS_MAX], open_fds[COUNT_OPEN_MAX];
	int nl, nopen = 0, most = 0, i;
	unsigned bound = 0;
	struct pollfd pl[COUNT_ADDRS_MAX];

	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	nl = env_int("HOSTILE_ADDRS", 1, COUNT_ADDRS_MAX);
	if (listen_count(port, nl > 0 ? nl : 1, lfds, &bound) < 0) {
		fprintf(stderr, "hostile_smtpd: listen on 127.0.0.x:%u: %s\n", port,
		    strerror(errno));
		return 1;
	}
	nl = nl > 0 ? nl : 1;
	if (port == 0)
		printf("ready %u\n", bound);
	else
		printf("ready\n");
	fflush(stdout);
	for (i = 0; i < nl; i++)
		pl[i] = (struct pollfd){.fd = lfds[i], .events = POLLIN};
	for (;;) {
		if (poll(pl, (nfds_t)nl, -1) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < nl; i++) {
			int fd;
			pid_t pid;

			if (!(pl[i].revents & POLLIN) || (fd = accept(lfds[i], NULL, NULL)) < 0)
				continue;
			nopen = count_open(open_fds, nopen);
			if (nopen >= COUNT_OPEN_MAX || (pid = fork()) < 0) {
				close(fd);
				continue;
			}
			if (pid == 0)
				count_child(fd, lfds, nl, open_fds, nopen);
			open_fds[nopen++] = fd;	/* kept to see its client close */
			if (nopen > most)
				most = nopen;
			fprintf(stderr, "hostile_smtpd: count-sessions: %d open at once "
			    "(most %d)\n", nopen, most);
		}
	}
}

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: hostile_smtpd MODE PORT [LIFETIME]\nmodes:");
	for (i = 0; i < sizeof(mode_table) / sizeof(mode_table[0]); i++)
		fprintf(stderr, " %s", mode_table[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

static unsigned long
parse_number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	const char *mode_name;
	enum mode mode = M_NORMAL_REJECT;
	unsigned port, bound = 0;
	int lfd, found = 0;
	size_t i;

	if (argc < 3 || argc > 4)
		usage();
	mode_name = argv[1];
	for (i = 0; i < sizeof(mode_table) / sizeof(mode_table[0]); i++) {
		if (strcmp(mode_table[i].name, mode_name) == 0) {
			mode = mode_table[i].mode;
			found = 1;
		}
	}
	if (!found)
		usage();
	if (mode == M_SENDER_DOMAIN)
		server_name = "mail.site.test";
	pad_replies = mode == M_HUGE_REPLY;
	int tarpit = mode == M_TARPIT || mode == M_TARPIT_OPEN;

	if (tarpit)
		tarpit_seconds = env_int("HOSTILE_TARPIT", 2, MAX_LIFETIME);
	int maxperip = env_int("HOSTILE_MAXPERIP", tarpit ? 5 : 2, 64);
	port = (unsigned)parse_number(argv[2], 65535);
	signal(SIGPIPE, SIG_IGN);
	alarm(argc == 4 ? (unsigned)parse_number(argv[3], MAX_LIFETIME) : MAX_LIFETIME);
	if (mode == M_COUNT_SESSIONS)
		return serve_count_sessions(port);

	if ((lfd = listen_loopback(port, &bound)) < 0) {
		fprintf(stderr, "hostile_smtpd: listen on 127.0.0.1:%u: %s\n", port,
		    strerror(errno));
		return 1;
	}
	if (port == 0)
		printf("ready %u\n", bound);
	else
		printf("ready\n");
	fflush(stdout);

	for (;;) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct conn *c;
		char addr[INET_ADDRSTRLEN] = "?";
		int fd = accept(lfd, (struct sockaddr *)&peer, &plen);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "hostile_smtpd: accept: %s\n", strerror(errno));
			return 1;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->end_reason = "done";
		inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
		nconn++;
		prng_state = 0x2545f491u ^ (uint32_t)nconn;
		if ((!tarpit && mode != M_CLOSE_BUSY) ||
		    !serve_concurrent(c, mode, mode_name, maxperip > 0 ? maxperip : 1))
			serve(c, mode, mode_name);
		fprintf(stderr, "hostile_smtpd: %s: connection %lu from %s: %s\n",
		    mode_name, nconn, addr, c->end_reason);
		close(fd);
		free(c);
	}
}
