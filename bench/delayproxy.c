/*
 * delayproxy - a TCP proxy that adds a fixed delay each way, to give
 * loopback targets the round-trip time of an Internet path (scale bench).
 *
 * SYNOPSIS
 *	delayproxy [-l ADDR] -p PORT (-b PORT | -m DST[/BITS]=HOST:PORT ...) [-d MS]
 *	           [-s SRC] [-H 0|1] [-t SECS]
 *
 * DESCRIPTION
 *	Listens on ADDR:PORT (default 0.0.0.0, meant for a private network
 *	namespace with only "lo", where every 127.x.y.z reaches it). A
 *	connection made to address DST is relayed to HOST:PORT when "-m
 *	DST=HOST:PORT" names DST (or DST/BITS covers it: many target names,
 *	one backend; the first matching -m wins), otherwise to DST itself on
 *	the -b port. Every
 *	chunk read from one side is written to the other -d MS later (default
 *	25: a 50 ms round trip); a close travels the same way. Bytes keep their
 *	order, chunk boundaries are kept (a pipelined group stays one write).
 *
 *	The kernel completes the client's TCP handshake at once; with -H 1
 *	(default) the first bytes from the server are held back one more round
 *	trip and a half (3 x MS) so that, as on a real path, the greeting
 *	arrives two round trips after connect() began (SYN, SYN-ACK, ACK, then
 *	the server's 220 one way).
 *
 *	-s SRC binds the connections to the servers to SRC (e.g. 127.0.0.2, so
 *	a Postfix whose mynetworks is 127.0.0.1/32 sees an outsider).
 *	Connections to addresses outside 127.0.0.0/8 are closed. Prints
 *	"ready PORT" once listening; exits after -t SECS (default 3600) or on
 *	SIGTERM.
 *
 *	Connections are counted per address the client connected to: on
 *	SIGUSR1 (and at exit) the counts since the last report are printed to
 *	standard output as "conn ADDR N" lines, then "total N" and "end", and
 *	start again from zero (the scale bench's sessions per target for
 *	tools that do not report them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define MAX_MAPS	64

struct chunk {
	struct chunk *next;
	struct timeval due;
	size_t len;
	bool close;			/* the sending side closed */
};

struct pair;

struct dir {				/* bytes read on from, written on to */
	struct pair *p;
	struct bufferevent *from, *to;
	struct evbuffer *held;
	struct chunk *head, *tail;
	struct event *timer;
	bool first;			/* nothing delivered yet */
	bool extra;			/* the handshake model applies */
};

struct pair {
	struct bufferevent *side[2];	/* 0 client, 1 server */
	struct dir d[2];		/* 0: client->server, 1: server->client */
	bool done;
};

static struct {
	uint32_t dst;			/* network order, masked */
	uint32_t mask;			/* network order */
	struct sockaddr_in to;
} maps[MAX_MAPS];
static int nmaps, backend_port = -1, delay_ms = 25, handshake = 1;
static struct sockaddr_in src;
static bool have_src;
static struct event_base *base;
static unsigned long n_conn;

static void pair_free(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		struct dir *d = &p->d[i];

		while (d->head) {
			struct chunk *c = d->head;

			d->head = c->next;
			free(c);
		}
		event_free(d->timer);
		evbuffer_free(d->held);
		if (p->side[i])
			bufferevent_free(p->side[i]);
	}
	free(p);
}

static void closed_after_flush(struct bufferevent *bev, void *arg)
{
	(void)bev;
	pair_free(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

/* A close arrived at the other side: flush what it has, then free all. */
static void deliver_close(struct dir *d)
{
	struct pair *p = d->p;

	p->done = true;
	bufferevent_disable(d->from, EV_READ);
	bufferevent_disable(d->to, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(d->to)) == 0) {
		pair_free(p);
		return;
	}
	bufferevent_setcb(d->to, NULL, closed_after_flush, on_event, p);
}

static void arm(struct dir *d)
{
	struct timeval now, left;

	if (d->head == NULL || evtimer_pending(d->timer, NULL))
		return;
	gettimeofday(&now, NULL);
	if (timercmp(&d->head->due, &now, <))
		timerclear(&left);
	else
		timersub(&d->head->due, &now, &left);
	evtimer_add(d->timer, &left);
}

static void due(evutil_socket_t fd, short ev, void *arg)
{
	struct dir *d = arg;
	struct timeval now;

	(void)fd;
	(void)ev;
	gettimeofday(&now, NULL);
	while (d->head && !timercmp(&d->head->due, &now, >)) {
		struct chunk *c = d->head;

		d->head = c->next;
		if (d->head == NULL)
			d->tail = NULL;
		if (c->close) {
			free(c);
			deliver_close(d);
			return;
		}
		evbuffer_remove_buffer(d->held, bufferevent_get_output(d->to), c->len);
		free(c);
	}
	arm(d);
}

static void enqueue(struct dir *d, size_t len, bool close)
{
	struct chunk *c = calloc(1, sizeof(*c));
	int ms = delay_ms;

	if (c == NULL)
		abort();
	if (d->first && d->extra)
		ms += 3 * delay_ms;
	d->first = false;
	gettimeofday(&c->due, NULL);
	c->due.tv_usec += (long)ms * 1000;
	c->due.tv_sec += c->due.tv_usec / 1000000;
	c->due.tv_usec %= 1000000;
	c->len = len;
	c->close = close;
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	arm(d);
}

static struct dir *dir_from(struct pair *p, struct bufferevent *bev)
{
	return bev == p->side[0] ? &p->d[0] : &p->d[1];
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct dir *d = dir_from(arg, bev);
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);

	if (len == 0)
		return;
	evbuffer_remove_buffer(in, d->held, len);
	enqueue(d, len, false);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pair *p = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (p->done) {			/* error while flushing the last bytes */
		pair_free(p);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		struct dir *d = dir_from(p, bev);

		bufferevent_disable(bev, EV_READ);
		on_read(bev, p);
		enqueue(d, 0, true);
	}
}

/* Connections per client-side address since the last report: open
 * addressing on the address, grown at half full. */
static struct conncount {
	uint32_t addr;			/* network order; 0 = empty */
	unsigned long n;
} *counts;
static size_t ncounts, capcounts;
static unsigned long n_since;

static struct conncount *count_slot(struct conncount *tab, size_t cap, uint32_t addr)
{
	size_t i = (ntohl(addr) * 2654435761u) & (cap - 1);

	while (tab[i].addr != 0 && tab[i].addr != addr)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static void count_conn(uint32_t addr)
{
	struct conncount *c;

	if (2 * (ncounts + 1) > capcounts) {
		size_t cap = capcounts ? capcounts * 2 : 1024;
		struct conncount *tab = calloc(cap, sizeof(*tab));

		if (tab == NULL)
			abort();
		for (size_t i = 0; i < capcounts; i++)
			if (counts[i].addr != 0)
				*count_slot(tab, cap, counts[i].addr) = counts[i];
		free(counts);
		counts = tab;
		capcounts = cap;
	}
	c = count_slot(counts, capcounts, addr);
	if (c->addr == 0) {
		c->addr = addr;
		ncounts++;
	}
	c->n++;
	n_since++;
}

/* Print the counts since the last report and start again from zero. */
static void report_counts(void)
{
	char a[INET_ADDRSTRLEN];

	for (size_t i = 0; i < capcounts; i++)
		if (counts[i].addr != 0 && inet_ntop(AF_INET, &counts[i].addr, a, sizeof(a)))
			printf("conn %s %lu\n", a, counts[i].n);
	printf("total %lu\nend\n", n_since);
	fflush(stdout);
	if (capcounts > 0)
		memset(counts, 0, capcounts * sizeof(*counts));
	ncounts = 0;
	n_since = 0;
}

static void on_usr1(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	report_counts();
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct sockaddr_in me, to;
	socklen_t melen = sizeof(me);
	struct pair *p;
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (getsockname(fd, (struct sockaddr *)&me, &melen) != 0 || me.sin_family != AF_INET ||
	    (ntohl(me.sin_addr.s_addr) >> 24) != 127) {
		evutil_closesocket(fd);
		return;
	}
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr = me.sin_addr;
	to.sin_port = htons((uint16_t)(backend_port > 0 ? backend_port : 0));
	for (int i = 0; i < nmaps; i++)
		if (maps[i].dst == (me.sin_addr.s_addr & maps[i].mask)) {
			to = maps[i].to;
			break;
		}
	if (to.sin_port == 0) {
		evutil_closesocket(fd);
		return;
	}
	n_conn++;
	count_conn(me.sin_addr.s_addr);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		abort();
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->side[0] = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	p->side[1] = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	for (int i = 0; i < 2; i++) {
		p->d[i].p = p;
		p->d[i].from = p->side[i];
		p->d[i].to = p->side[1 - i];
		p->d[i].held = evbuffer_new();
		p->d[i].timer = evtimer_new(base, due, &p->d[i]);
		p->d[i].first = true;
		p->d[i].extra = i == 1 && handshake;
		bufferevent_setcb(p->side[i], on_read, NULL, on_event, p);
	}
	if (have_src) {
		evutil_socket_t s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0 || bind(s, (struct sockaddr *)&src, sizeof(src)) != 0 ||
		    evutil_make_socket_nonblocking(s) != 0) {
			if (s >= 0)
				close(s);
			pair_free(p);
			return;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		bufferevent_setfd(p->side[1], s);
	}
	if (bufferevent_socket_connect(p->side[1], (struct sockaddr *)&to, sizeof(to)) != 0) {
		pair_free(p);
		return;
	}
	bufferevent_enable(p->side[0], EV_READ | EV_WRITE);
	bufferevent_enable(p->side[1], EV_READ | EV_WRITE);
}

static int parse_map(const char *s)
{
	char dst[64], host[64], *slash;
	int port, bits = 32;
	struct in_addr d, h;

	if (nmaps >= MAX_MAPS || sscanf(s, "%63[^=]=%63[^:]:%d", dst, host, &port) != 3)
		return -1;
	if ((slash = strchr(dst, '/')) != NULL) {
		*slash = 0;
		bits = atoi(slash + 1);
	}
	if (inet_pton(AF_INET, dst, &d) != 1 || inet_pton(AF_INET, host, &h) != 1 ||
	    port < 1 || port > 65535 || bits < 8 || bits > 32)
		return -1;
	maps[nmaps].mask = htonl(bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits));
	maps[nmaps].dst = d.s_addr & maps[nmaps].mask;
	maps[nmaps].to.sin_family = AF_INET;
	maps[nmaps].to.sin_addr = h;
	maps[nmaps].to.sin_port = htons((uint16_t)port);
	nmaps++;
	return 0;
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
	const char *listen_addr = "0.0.0.0";
	int port = -1, lifetime = 3600, c;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct evconnlistener *l;

	while ((c = getopt(argc, argv, "l:p:b:m:d:s:H:t:")) != -1) {
		switch (c) {
		case 'l': listen_addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'b': backend_port = atoi(optarg); break;
		case 'm':
			if (parse_map(optarg) != 0) {
				fprintf(stderr, "delayproxy: -m '%s': expected DST[/BITS]=HOST:PORT\n",
				    optarg);
				return 2;
			}
			break;
		case 'd': delay_ms = atoi(optarg); break;
		case 's':
			src.sin_family = AF_INET;
			if (inet_pton(AF_INET, optarg, &src.sin_addr) != 1) {
				fprintf(stderr, "delayproxy: -s '%s': not an IPv4 address\n",
				    optarg);
				return 2;
			}
			have_src = true;
			break;
		case 'H': handshake = atoi(optarg) != 0; break;
		case 't': lifetime = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: delayproxy [-l ADDR] -p PORT (-b PORT | -m "
			    "DST=HOST:PORT ...) [-d MS] [-s SRC] [-H 0|1] [-t SECS]\n");
			return 2;
		}
	}
	if (port < 0 || port > 65535 || backend_port > 65535 || delay_ms < 0 ||
	    delay_ms > 10000 || lifetime <= 0 || (backend_port <= 0 && nmaps == 0) ||
	    inet_pton(AF_INET, listen_addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "delayproxy: bad -l, -p, -b/-m, -d or -t\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sin.sin_port = htons((uint16_t)port);
	base = event_base_new();
	l = evconnlistener_new_bind(base, on_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096, (struct sockaddr *)&sin,
	    sizeof(sin));
	if (l == NULL) {
		fprintf(stderr, "delayproxy: listen on %s:%d: %s\n", listen_addr, port,
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
	struct event *usr1 = evsignal_new(base, SIGUSR1, on_usr1, NULL);
	struct timeval life = {lifetime, 0};

	evsignal_add(term, NULL);
	evsignal_add(intr, NULL);
	evsignal_add(usr1, NULL);
	event_base_loopexit(base, &life);
	event_base_dispatch(base);
	fprintf(stderr, "delayproxy: %lu connections\n", n_conn);
	report_counts();
	free(counts);
	event_free(usr1);
	event_free(term);
	event_free(intr);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}
