/*
 * fakemta - many simulated mail servers in one process, for the scale bench.
 *
 * SYNOPSIS
 *	fakemta [-l ADDR] -p PORT [-m MAPFILE] [-k KIND] [-w MS] [-t SECS]
 *
 * DESCRIPTION
 *	One libevent loop, one listening socket on ADDR:PORT (default
 *	0.0.0.0, meant for a private network namespace that has only "lo",
 *	where every 127.x.y.z reaches it). Each accepted connection looks up
 *	the address it was made to (getsockname) in MAPFILE and behaves as that
 *	server; addresses not listed behave as -k KIND (default closed).
 *	Connections to an address outside 127.0.0.0/8 are closed at once.
 *
 *	MAPFILE: one "ADDR KIND[,FLAG...]" per line, '#' comments. KIND:
 *	open	   every RCPT accepted (2.1.5) except domains under .invalid
 *		   (550 5.1.2, as a relay with DNS would answer); DATA 354.
 *	closed	   recipients in the server's own domains (its name
 *		   mxA-B-C.bench.test, [its address], localhost) without routing
 *		   characters (% ! @ : ") accepted, others "554 5.7.1 Relay
 *		   access denied", like Postfix's reject_unauth_destination.
 *	greylist   every RCPT "450 4.7.1 greylisted, try again later".
 *	slow	   as closed, every reply held back -w MS (default 200).
 *	FLAGs: nopipe - EHLO does not advertise PIPELINING and a client that
 *	sends a command before the previous reply is refused "554 5.5.0 Error:
 *	SMTP protocol synchronization" and dropped (Postfix 3.9
 *	smtpd_forbid_unauth_pipelining); pipe (default) advertises it.
 *
 *	Prints "ready PORT" on stdout once listening; exits after -t SECS
 *	(default 3600) or on SIGTERM. Counts of connections and commands go to
 *	stderr at exit.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

enum kind { K_CLOSED, K_OPEN, K_GREYLIST, K_SLOW };

struct mapent {
	uint32_t addr;			/* host order */
	enum kind kind;
	bool nopipe;
};

struct conn {
	struct bufferevent *bev;
	struct event *timer;		/* slow replies */
	struct evbuffer *held;		/* reply waiting for the timer */
	uint32_t addr;
	enum kind kind;
	bool nopipe;
	bool mail, rcpt_ok, in_data, closing;
	char name[64], literal[32];
};

static struct mapent *map;
static size_t nmap;
static enum kind default_kind = K_CLOSED;
static int slow_ms = 200;
static struct event_base *base;
static unsigned long n_conn, n_cmd, n_sync;

static int cmp_ent(const void *a, const void *b)
{
	uint32_t x = ((const struct mapent *)a)->addr, y = ((const struct mapent *)b)->addr;

	return x < y ? -1 : x > y;
}

static int parse_kind(const char *s, struct mapent *e)
{
	char buf[128], *save = NULL, *tok;
	int first = 1;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = 0) {
		if (first && strcmp(tok, "open") == 0) e->kind = K_OPEN;
		else if (first && strcmp(tok, "closed") == 0) e->kind = K_CLOSED;
		else if (first && strcmp(tok, "greylist") == 0) e->kind = K_GREYLIST;
		else if (first && strcmp(tok, "slow") == 0) e->kind = K_SLOW;
		else if (!first && strcmp(tok, "nopipe") == 0) e->nopipe = true;
		else if (!first && strcmp(tok, "pipe") == 0) e->nopipe = false;
		else return -1;
	}
	return first ? -1 : 0;
}

static void load_map(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int lineno = 0;
	size_t cap = 0;

	if (f == NULL) {
		fprintf(stderr, "fakemta: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		char a[64], k[128];
		struct in_addr in;
		struct mapent e = {0};

		lineno++;
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		if (sscanf(line, "%63s %127s", a, k) < 1)
			continue;
		if (inet_pton(AF_INET, a, &in) != 1 || parse_kind(k, &e) != 0) {
			fprintf(stderr, "fakemta: %s:%d: expected 'ADDR KIND[,nopipe]'\n",
			    path, lineno);
			exit(2);
		}
		e.addr = ntohl(in.s_addr);
		if (nmap == cap) {
			cap = cap ? cap * 2 : 1024;
			map = realloc(map, cap * sizeof(*map));
			if (map == NULL)
				abort();
		}
		map[nmap++] = e;
	}
	fclose(f);
	qsort(map, nmap, sizeof(*map), cmp_ent);
}

static void conn_free(struct conn *c)
{
	if (c->timer)
		event_free(c->timer);
	if (c->held)
		evbuffer_free(c->held);
	bufferevent_free(c->bev);
	free(c);
}

static void reply(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reply(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	struct evbuffer *out = c->kind == K_SLOW ? c->held : bufferevent_get_output(c->bev);

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* The address inside <...>, or the argument after ':' without brackets. */
static void path_of(const char *arg, char *out, size_t len)
{
	const char *p = strchr(arg, ':');

	p = p ? p + 1 : arg;
	while (*p == ' ')
		p++;
	if (*p == '<')
		p++;
	snprintf(out, len, "%s", p);
	char *gt = strrchr(out, '>');

	if (gt)
		*gt = '\0';
	else if ((gt = strchr(out, ' ')) != NULL)
		*gt = '\0';
}

static bool local_rcpt(const struct conn *c, const char *path)
{
	const char *at = strrchr(path, '@');

	if (at == NULL)
		return strcasecmp(path, "postmaster") == 0;
	if (path[0] == '@' || strpbrk(path, "%!\":") != NULL || strchr(path, '@') != at)
		return false;
	at++;
	return strcasecmp(at, c->name) == 0 || strcasecmp(at, c->literal) == 0 ||
	    strcasecmp(at, "localhost") == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* One command; false when the connection is to be closed after the reply. */
static bool command(struct conn *c, char *line)
{
	char verb[16] = "", path[512];
	size_t i;

	n_cmd++;
	if (c->in_data) {
		if (strcmp(line, ".") == 0) {
			c->in_data = false;
			c->mail = c->rcpt_ok = false;
			reply(c, "250 2.0.0 Ok: queued as FAKE");
		}
		return true;
	}
	for (i = 0; i < sizeof(verb) - 1 && line[i] && line[i] != ' '; i++)
		verb[i] = (char)toupper((unsigned char)line[i]);
	verb[i] = '\0';
	if (strcmp(verb, "EHLO") == 0) {
		reply(c, "250-%s", c->name);
		if (!c->nopipe)
			reply(c, "250-PIPELINING");
		reply(c, "250-SIZE 10240000");
		reply(c, "250-ENHANCEDSTATUSCODES");
		reply(c, "250 8BITMIME");
		c->mail = c->rcpt_ok = false;
	} else if (strcmp(verb, "HELO") == 0) {
		reply(c, "250 %s", c->name);
		c->mail = c->rcpt_ok = false;
	} else if (strcmp(verb, "MAIL") == 0) {
		if (c->mail) {
			reply(c, "503 5.5.1 Error: nested MAIL command");
		} else {
			c->mail = true;
			reply(c, "250 2.1.0 Ok");
		}
	} else if (strcmp(verb, "RCPT") == 0) {
		path_of(line + i, path, sizeof(path));
		if (!c->mail)
			reply(c, "503 5.5.1 Error: need MAIL command");
		else if (c->kind == K_GREYLIST)
			reply(c, "450 4.7.1 <%s>: Recipient address rejected: greylisted, "
			    "try again later", path);
		else if (c->kind == K_OPEN && !ends_with(path, ".invalid")) {
			c->rcpt_ok = true;
			reply(c, "250 2.1.5 Ok");
		} else if (c->kind == K_OPEN)
			reply(c, "550 5.1.2 <%s>: Recipient address rejected: Domain not found",
			    path);
		else if (local_rcpt(c, path)) {
			c->rcpt_ok = true;
			reply(c, "250 2.1.5 Ok");
		} else
			reply(c, "554 5.7.1 <%s>: Relay access denied", path);
	} else if (strcmp(verb, "DATA") == 0) {
		if (!c->mail)
			reply(c, "503 5.5.1 Error: need RCPT command");
		else if (!c->rcpt_ok)
			reply(c, "554 5.5.1 Error: no valid recipients");
		else {
			c->in_data = true;
			reply(c, "354 End data with <CR><LF>.<CR><LF>");
		}
	} else if (strcmp(verb, "RSET") == 0) {
		c->mail = c->rcpt_ok = false;
		reply(c, "250 2.0.0 Ok");
	} else if (strcmp(verb, "NOOP") == 0) {
		reply(c, "250 2.0.0 Ok");
	} else if (strcmp(verb, "QUIT") == 0) {
		reply(c, "221 2.0.0 Bye");
		return false;
	} else {
		reply(c, "502 5.5.2 Error: command not recognized");
	}
	return true;
}

static void process(struct conn *c);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void close_when_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_free(arg);
}

static void finish(struct conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
	else
		bufferevent_setcb(c->bev, NULL, close_when_written, on_event, c);
}

static void slow_due(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	bufferevent_write_buffer(c->bev, c->held);
	if (c->closing) {
		finish(c);
		return;
	}
	process(c);
}

static void process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len;
	char *line;

	if (c->closing || (c->timer && evtimer_pending(c->timer, NULL)))
		return;
	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		bool more = evbuffer_get_length(in) > 0, keep;

		if (c->nopipe && more && !c->in_data) {
			n_sync++;
			free(line);
			reply(c, "554 5.5.0 Error: SMTP protocol synchronization");
			keep = false;
		} else {
			keep = command(c, line);
			free(line);
		}
		if (c->kind == K_SLOW && evbuffer_get_length(c->held) > 0) {
			struct timeval tv = {slow_ms / 1000, (slow_ms % 1000) * 1000};

			c->closing = !keep;
			evtimer_add(c->timer, &tv);
			return;
		}
		if (!keep) {
			finish(c);
			return;
		}
	}
	if (evbuffer_get_length(in) > 4096) {	/* a line that never ends */
		reply(c, "500 5.5.0 Error: line too long");
		finish(c);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static const struct mapent *lookup(uint32_t addr)
{
	struct mapent key = {.addr = addr};

	return nmap ? bsearch(&key, map, nmap, sizeof(*map), cmp_ent) : NULL;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct sockaddr_in me;
	socklen_t melen = sizeof(me);
	struct conn *c;
	const struct mapent *e;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (getsockname(fd, (struct sockaddr *)&me, &melen) != 0 || me.sin_family != AF_INET ||
	    (ntohl(me.sin_addr.s_addr) >> 24) != 127) {
		evutil_closesocket(fd);
		return;
	}
	n_conn++;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->addr = ntohl(me.sin_addr.s_addr);
	e = lookup(c->addr);
	c->kind = e ? e->kind : default_kind;
	c->nopipe = e ? e->nopipe : false;
	snprintf(c->name, sizeof(c->name), "mx%u-%u-%u.bench.test", (c->addr >> 16) & 255,
	    (c->addr >> 8) & 255, c->addr & 255);
	snprintf(c->literal, sizeof(c->literal), "[%s]", inet_ntoa(me.sin_addr));
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->kind == K_SLOW) {
		c->held = evbuffer_new();
		c->timer = evtimer_new(base, slow_due, c);
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	reply(c, "220 %s ESMTP fakemta", c->name);
	if (c->kind == K_SLOW) {
		struct timeval tv = {slow_ms / 1000, (slow_ms % 1000) * 1000};

		evtimer_add(c->timer, &tv);
	}
}

static void on_stop(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
	const char *listen_addr = "0.0.0.0", *mapfile = NULL;
	int port = -1, lifetime = 3600, c;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct evconnlistener *l;
	struct mapent dk = {0};

	while ((c = getopt(argc, argv, "l:p:m:k:w:t:")) != -1) {
		switch (c) {
		case 'l': listen_addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': mapfile = optarg; break;
		case 'k':
			if (parse_kind(optarg, &dk) != 0 || dk.nopipe) {
				fprintf(stderr, "fakemta: -k: unknown kind '%s'\n", optarg);
				return 2;
			}
			default_kind = dk.kind;
			break;
		case 'w': slow_ms = atoi(optarg); break;
		case 't': lifetime = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: fakemta [-l ADDR] -p PORT [-m MAPFILE] [-k KIND] "
			    "[-w MS] [-t SECS]\n");
			return 2;
		}
	}
	if (port < 0 || port > 65535 || inet_pton(AF_INET, listen_addr, &sin.sin_addr) != 1 ||
	    slow_ms < 0 || lifetime <= 0) {
		fprintf(stderr, "fakemta: bad -l, -p, -w or -t\n");
		return 2;
	}
	if (mapfile)
		load_map(mapfile);
	signal(SIGPIPE, SIG_IGN);
	sin.sin_port = htons((uint16_t)port);
	base = event_base_new();
	l = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096, (struct sockaddr *)&sin,
	    sizeof(sin));
	if (l == NULL) {
		fprintf(stderr, "fakemta: listen on %s:%d: %s\n", listen_addr, port,
		    strerror(errno));
		return 1;
	}
	{
		struct sockaddr_in b;
		socklen_t blen = sizeof(b);

		getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&b, &blen);
		printf("ready %u\n", ntohs(b.sin_port));
		fflush(stdout);
	}
	struct event *term = evsignal_new(base, SIGTERM, on_stop, NULL);
	struct event *intr = evsignal_new(base, SIGINT, on_stop, NULL);
	struct timeval life = {lifetime, 0};

	evsignal_add(term, NULL);
	evsignal_add(intr, NULL);
	event_base_loopexit(base, &life);
	event_base_dispatch(base);
	fprintf(stderr, "fakemta: %lu connections, %lu commands, %lu synchronization "
	    "errors\n", n_conn, n_cmd, n_sync);
	event_free(term);
	event_free(intr);
	evconnlistener_free(l);
	event_base_free(base);
	free(map);
	return 0;
}
