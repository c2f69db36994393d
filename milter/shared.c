/*
 * shared.c - the penalty box's shared state on Redis; see shared.h.
 *
 * One hiredis connection under one mutex. A call takes the mutex with
 * pthread_mutex_clocklock() (monotonic) until its deadline, then sets the socket's
 * send and receive timeouts to what is left: a slow or silent server
 * costs a call at most SharedStateTimeout. After a timeout the reply may
 * still come, so the connection is dropped, never reused.
 *
 * The Lua scripts are loaded once per connection (SCRIPT LOAD) and called
 * by their SHA1 (EVALSHA): a decision sends its keys and arguments, not
 * the script. A server that lost its script cache since (SCRIPT FLUSH, a
 * failover to a replica that never saw the load) answers NOSCRIPT; that
 * call then sends the script itself with EVAL, which caches it again.
 */
#include "shared.h"
#include "milter/shared_url.h"
#include "lib/mail/eventlog.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <hiredis.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_PREFIX	"relayguard:"
#define BACKOFF_MAX	30.0

/* win(key, n, window): add n to a sliding window of 60 buckets kept in a
 * hash (bucket number -> count) on the server's clock; the count in the
 * window. Old buckets go, the key expires a bucket after the window. */
#define WINDOW_LUA \
"local t = redis.call('TIME')\n" \
"local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n" \
"local function win(key, n, window)\n" \
"  local width = window / 60\n" \
"  local b = math.floor(now / width)\n" \
"  redis.call('HINCRBY', key, b, n)\n" \
"  local sum, all = 0, redis.call('HGETALL', key)\n" \
"  for i = 1, #all, 2 do\n" \
"    if tonumber(all[i]) <= b - 60 then redis.call('HDEL', key, all[i])\n" \
"    else sum = sum + tonumber(all[i + 1]) end\n" \
"  end\n" \
"  redis.call('EXPIRE', key, math.ceil(window + width) + 1)\n" \
"  return sum\n" \
"end\n"

/* KEYS: window hash, box. ARGV: n, window, threshold, block ms, enforce,
 * host. Returns {count, box ms left, boxed by, 1 when boxed now}. */
static const char attempt_lua[] = WINDOW_LUA
"local sum = win(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
"local ttl = redis.call('PTTL', KEYS[2])\n"
"if ttl > 0 then return {sum, ttl, redis.call('GET', KEYS[2]), 0} end\n"
"if ARGV[5] == '1' and sum >= tonumber(ARGV[3]) then\n"
"  redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[4])\n"
"  return {sum, tonumber(ARGV[4]), ARGV[6], 1}\n"
"end\n"
"return {sum, 0, '', 0}\n";

static const char box_lua[] =
"local ttl = redis.call('PTTL', KEYS[1])\n"
"if ttl > 0 then return {0, ttl, redis.call('GET', KEYS[1]), 0} end\n"
"return {0, 0, '', 0}\n";

/* KEYS: total, recipient, client windows, storm. ARGV: window, the three
 * thresholds (0: off), host. Returns the three counts and the number of
 * the threshold that started a storm here (0: none, or already one). */
static const char bounce_lua[] = WINDOW_LUA
"local w = tonumber(ARGV[1])\n"
"local c = {win(KEYS[1], 1, w), win(KEYS[2], 1, w), win(KEYS[3], 1, w)}\n"
"for i = 1, 3 do\n"
"  local thr = tonumber(ARGV[i + 1])\n"
"  if thr > 0 and c[i] >= thr then\n"
"    if redis.call('SET', KEYS[4], ARGV[5], 'NX', 'PX', math.floor(w * 1000)) then\n"
"      return {c[1], c[2], c[3], i}\n"
"    end\n"
"    return {c[1], c[2], c[3], 0}\n"
"  end\n"
"end\n"
"return {c[1], c[2], c[3], 0}\n";

enum { SCRIPT_ATTEMPT, SCRIPT_BOX, SCRIPT_BOUNCE, SCRIPT_COUNT };
static const char *const script_lua[SCRIPT_COUNT] = {attempt_lua, box_lua,
    bounce_lua};

/* An EVAL reply: four elements, numbers or (the third) a string. */
struct reply4 {
	long long num[4];
	char str[256];
};


static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static redisContext *conn;		/* NULL: lost (or never had) */
static char script_sha[SCRIPT_COUNT][41];	/* SCRIPT LOAD's answers for conn */
static struct shared_target tgt;
static bool enabled, up;
static double timeout_s, backoff = 1, next_try;
static unsigned long n_ok, n_error, n_busy, n_down, n_lost, max_us;
static unsigned long hist[11];		/* call time buckets, see bounds */
static const double bounds[11] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1e9};

#define ADD(x, n)	__atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define GET(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)

static struct timeval tv_of(double s)
{
	return (struct timeval){.tv_sec = (time_t)s,
	    .tv_usec = (suseconds_t)((s - (double)(time_t)s) * 1e6)};
}

/* One command on c; its reply, NULL with err on a transport or Redis error. */
static redisReply *command(redisContext *c, char *err, size_t errlen,
    int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r == NULL) {
		rg_set_err(err, errlen, "%s", c->errstr[0] ? c->errstr : "no reply");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		rg_set_err(err, errlen, "%s", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* A command whose reply only has to be no error. */
static bool run(redisContext *c, char *err, size_t errlen, int argc,
    const char **argv)
{
	redisReply *r = command(c, err, errlen, argc, argv);

	if (r != NULL)
		freeReplyObject(r);
	return r != NULL;
}

/* SCRIPT LOAD each script on c: its SHA1 into sha; false with err on a
 * transport error. A server that refuses SCRIPT LOAD (an ACL user with
 * EVAL only) leaves sha empty: those calls send the script (EVAL). */
static bool load_scripts(redisContext *c, char sha[][41], char *err,
    size_t errlen)
{
	for (int i = 0; i < SCRIPT_COUNT; i++) {
		const char *argv[] = {"SCRIPT", "LOAD", script_lua[i]};
		redisReply *r = command(c, err, errlen, 3, argv);

		sha[i][0] = '\0';
		if (r == NULL && c->err != 0)
			return false;
		if (r == NULL) {
			msg_warn("shared state: SCRIPT LOAD refused (%s): every "
			    "call sends its script with EVAL", err);
			continue;
		}
		if (r->type != REDIS_REPLY_STRING || r->len != 40) {
			freeReplyObject(r);
			rg_set_err(err, errlen, "SCRIPT LOAD: unexpected reply");
			return false;
		}
		memcpy(sha[i], r->str, 41);
		freeReplyObject(r);
	}
	return true;
}

/* Connect, AUTH, SELECT, PING, SCRIPT LOAD (the SHA1s into sha). NULL
 * with err; *refused for credentials. */
static redisContext *dial(const struct shared_target *t, double secs, bool *refused,
    char sha[][41], char *err, size_t errlen)
{
	redisContext *c = t->unix_socket ?
	    redisConnectUnixWithTimeout(t->path, tv_of(secs)) :
	    redisConnectWithTimeout(t->hp.host, t->hp.port, tv_of(secs));
	const char *auth[] = {"AUTH", t->user, t->pass};
	char db[24], why[300];
	const char *sel[] = {"SELECT", db}, *ping[] = {"PING"};

	*refused = false;
	if (c == NULL || c->err) {
		rg_set_err(err, errlen, "cannot connect to %s: %s", t->shown,
		    c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv_of(secs));
	snprintf(db, sizeof(db), "%ld", t->db);
	if ((t->pass[0] && !run(c, why, sizeof(why), t->user[0] ? 3 : 2,
	    t->user[0] ? auth : (const char *[]){"AUTH", t->pass})) ||
	    !run(c, why, sizeof(why), 2, sel) || !run(c, why, sizeof(why), 1, ping) ||
	    !load_scripts(c, sha, why, sizeof(why)))
		goto fail;
	return c;
fail:
	/* the server's words for credentials it does not take */
	*refused = strstr(why, "WRONGPASS") || strstr(why, "NOAUTH") ||
	    strstr(why, "without any password") || strstr(why, "invalid password");
	rg_set_err(err, errlen, "%s: %s%s", t->shown, why, *refused ?
	    " (check the user and password in SharedState)" : "");
	redisFree(c);
	return NULL;
}

static void state_event(const char *event, const char *why)
{
	char line[1024];
	struct rg_event_field f[] = {{.key = "server", .str = tgt.shown}};
	struct rg_event ev = {.event = event, .action = "none", .reason = why,
	    .fields = f, .nfields = RG_NELEM(f)};

	msg_info("%s", rg_event_format_kv(&ev, line, sizeof(line)));
	(void)rg_eventlog_write(&ev);
}

int shared_start(const struct rg_config *c, bool keep, char *err,
    size_t errlen)
{
	redisContext *rc;
	bool refused;

	if (c->shared_state == NULL)
		return 0;
	if (shared_url_parse(c->shared_state, &tgt, err, errlen) != 0)
		return -1;
	timeout_s = c->shared_state_timeout;
	rc = dial(&tgt, timeout_s > 1 ? timeout_s : 1, &refused, script_sha,
	    err, errlen);
	if (rc == NULL)
		return refused ? -1 : (enabled = keep, next_try = rg_now() + 1, 1);
	if (!keep) {
		redisFree(rc);
		return 0;
	}
	conn = rc;
	enabled = true;
	__atomic_store_n(&up, true, __ATOMIC_RELAXED);
	return 0;
}

int shared_check(const struct rg_config *c, FILE *out, FILE *errout)
{
	char err[400];
	int rc = shared_start(c, false, err, sizeof(err));

	if (rc < 0)
		fprintf(errout, "%s: SharedState: %s\n", c->path, err);
	else if (rc > 0)
		fprintf(errout, "%s: warning: SharedState: %s (the milter would "
		    "decide on local state until it answers)\n", c->path, err);
	else if (c->shared_state != NULL)
		fprintf(out, "shared state: %s answers and takes the credentials\n",
		    tgt.shown);
	return rc < 0 ? -1 : 0;
}

bool shared_enabled(void)
{
	return enabled;
}

/* Under the lock: drop the connection, log the loss once. */
static void lose(const char *why)
{
	char reason[400];

	redisFree(conn);
	conn = NULL;
	if (!__atomic_load_n(&up, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&up, false, __ATOMIC_RELAXED);
	ADD(n_lost, 1);
	next_try = rg_now() + 1;
	backoff = 1;
	snprintf(reason, sizeof(reason), "shared state on %s lost (%s): "
	    "deciding on local state until it is back", tgt.shown, why);
	state_event("shared_state_lost", reason);
}

static void record_time(double secs)
{
	unsigned long us = (unsigned long)(secs * 1e6), old = GET(max_us);
	size_t i = 0;

	while (secs > bounds[i])
		i++;
	ADD(hist[i], 1);
	while (us > old && !__atomic_compare_exchange_n(&max_us, &old, us, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Give conn what is left of the deadline that started at t0. */
static void set_deadline(double t0)
{
	double left = timeout_s - (rg_now() - t0);

	redisSetTimeout(conn, tv_of(left > 0.001 ? left : 0.001));
}

/* Under the lock: argv[3..] are the keys and arguments; EVALSHA, or EVAL
 * where the server answers NOSCRIPT (that EVAL caches it again). */
static redisReply *call_script(int script, int argc, const char **argv,
    double t0, char *err, size_t errlen)
{
	redisReply *r;

	if (script_sha[script][0] != '\0') {
		argv[0] = "EVALSHA";
		argv[1] = script_sha[script];
		set_deadline(t0);
		r = command(conn, err, errlen, argc, argv);
		if (r != NULL || conn->err != 0 ||
		    strncmp(err, "NOSCRIPT", 8) != 0)
			return r;
		msg_verbose("shared state: %s lost script %s; sending it "
		    "again", tgt.shown, script_sha[script]);
	}
	argv[0] = "EVAL";
	argv[1] = script_lua[script];
	set_deadline(t0);
	return command(conn, err, errlen, argc, argv);
}

/* Run a script on keys within the deadline; 0 and out, or -1. */
static int eval(int script, const char **keys, int nkeys,
    const char **args, int nargs, struct reply4 *out)
{
	double t0 = rg_now();
	struct timespec until;
	char nk[8], err[300];
	const char *argv[16] = {NULL, NULL, nk};
	int argc = 3, rc = -1;
	redisReply *r;

	/* monotonic: a clock step must not stretch the wait on the mail path */
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)(timeout_s * 1e9);
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	if (pthread_mutex_clocklock(&lock, CLOCK_MONOTONIC, &until) != 0) {
		ADD(n_busy, 1);
		record_time(rg_now() - t0);
		return -1;
	}
	if (conn == NULL) {
		pthread_mutex_unlock(&lock);
		ADD(n_down, 1);
		record_time(rg_now() - t0);
		return -1;
	}
	snprintf(nk, sizeof(nk), "%d", nkeys);
	for (int i = 0; i < nkeys && argc < 16; i++)
		argv[argc++] = keys[i];
	for (int i = 0; i < nargs && argc < 16; i++)
		argv[argc++] = args[i];
	r = call_script(script, argc, argv, t0, err, sizeof(err));
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
		lose(r == NULL ? err : "unexpected reply");
		ADD(n_error, 1);
	} else {
		memset(out, 0, sizeof(*out));
		for (size_t i = 0; i < 4; i++)
			if (r->element[i]->type == REDIS_REPLY_INTEGER)
				out->num[i] = r->element[i]->integer;
			else if (r->element[i]->type == REDIS_REPLY_STRING)
				snprintf(out->str, sizeof(out->str), "%s",
				    r->element[i]->str);
		ADD(n_ok, 1);
		rc = 0;
	}
	if (r != NULL)
		freeReplyObject(r);
	pthread_mutex_unlock(&lock);
	record_time(rg_now() - t0);
	return rc;
}

/* The answer about a source from a penalty-box script's reply. */
static int answer_of(int rc, const struct reply4 *r, struct shared_answer *a)
{
	if (rc != 0)
		return -1;
	a->count = (unsigned long)r->num[0];
	a->box_ms = (long)r->num[1];
	snprintf(a->boxed_by, sizeof(a->boxed_by), "%s", r->str);
	a->boxed_here = r->num[3] == 1;
	return 0;
}

int shared_attempt(const char *source, unsigned long n, long threshold,
    long window, long block_time, bool enforce, const char *host,
    struct shared_answer *a)
{
	char sn[24], sw[24], st[24], sb[24];
	const char *args[] = {sn, sw, st, sb, enforce ? "1" : "0", host};

	if (!enabled)
		return -1;
	snprintf(sn, sizeof(sn), "%lu", n);
	snprintf(sw, sizeof(sw), "%ld", window);
	snprintf(st, sizeof(st), "%ld", threshold);
	char kw[300], kb[300];
	const char *keys[] = {kw, kb};
	struct reply4 r;

	snprintf(sb, sizeof(sb), "%ld", block_time * 1000);
	snprintf(kw, sizeof(kw), KEY_PREFIX "{%s}:w", source);
	snprintf(kb, sizeof(kb), KEY_PREFIX "{%s}:box", source);
	return answer_of(eval(SCRIPT_ATTEMPT, keys, 2, args, RG_NELEM(args), &r),
	    &r, a);
}

int shared_box(const char *source, struct shared_answer *a)
{
	char kb[300];
	const char *keys[] = {kb};
	struct reply4 r;

	if (!enabled)
		return -1;
	snprintf(kb, sizeof(kb), KEY_PREFIX "{%s}:box", source);
	return answer_of(eval(SCRIPT_BOX, keys, 1, NULL, 0, &r), &r, a);
}

int shared_bounce(const char *origin, const char *rcpt, const char *client,
    const struct rg_config *c, const char *host, struct shared_bounce *b)
{
	char kt[300], kr[300], kc[300], ks[300], w[24], t[3][24];
	const char *keys[] = {kt, kr, kc, ks};
	const char *args[] = {w, t[0], t[1], t[2], host};
	const long thr[3] = {c->bounce_threshold, c->bounce_rcpt_threshold,
	    c->bounce_client_threshold};
	struct reply4 r;

	if (!enabled)
		return -1;
	/* one hash tag per origin: the four keys share a Cluster slot */
	snprintf(kt, sizeof(kt), KEY_PREFIX "{bounce:%s}:total", origin);
	snprintf(kr, sizeof(kr), KEY_PREFIX "{bounce:%s}:rcpt:%.200s", origin, rcpt);
	snprintf(kc, sizeof(kc), KEY_PREFIX "{bounce:%s}:client:%.64s", origin, client);
	snprintf(ks, sizeof(ks), KEY_PREFIX "{bounce:%s}:storm", origin);
	snprintf(w, sizeof(w), "%ld", c->bounce_window);
	for (size_t i = 0; i < 3; i++)
		snprintf(t[i], sizeof(t[i]), "%ld", thr[i]);
	if (eval(SCRIPT_BOUNCE, keys, 4, args, RG_NELEM(args), &r) != 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		b->count[i] = (unsigned long)r.num[i];
	b->started = (int)r.num[3];
	b->threshold = b->started > 0 ? thr[b->started - 1] : 0;
	return 0;
}

bool shared_tick(double now)
{
	char err[400], reason[500], sha[SCRIPT_COUNT][41];
	redisContext *c;
	bool refused;
	double due;

	if (!enabled || __atomic_load_n(&up, __ATOMIC_RELAXED))
		return false;
	pthread_mutex_lock(&lock);
	due = next_try;
	pthread_mutex_unlock(&lock);
	if (now < due)
		return false;
	c = dial(&tgt, timeout_s > 1 ? timeout_s : 1, &refused, sha, err,
	    sizeof(err));
	pthread_mutex_lock(&lock);
	if (c == NULL) {
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
		next_try = now + backoff;
		pthread_mutex_unlock(&lock);
		msg_verbose("shared state: %s; next try in %.0f s", err, backoff);
		return false;
	}
	conn = c;
	memcpy(script_sha, sha, sizeof(script_sha));
	__atomic_store_n(&up, true, __ATOMIC_RELAXED);
	snprintf(reason, sizeof(reason), "shared state on %s is back: "
	    "merging the counts kept locally", tgt.shown);
	state_event("shared_state_restored", reason);
	pthread_mutex_unlock(&lock);
	return true;
}

void shared_metrics(FILE *f)
{
	unsigned long cum = 0;

	if (!enabled)
		return;
	fprintf(f, "# HELP relayguard_shared_state_up 1 while the SharedState "
	    "server answers.\n# TYPE relayguard_shared_state_up gauge\n"
	    "relayguard_shared_state_up %d\n", __atomic_load_n(&up,
	    __ATOMIC_RELAXED) ? 1 : 0);
	fprintf(f, "# HELP relayguard_shared_state_calls_total Penalty-box "
	    "decisions by how the shared state answered.\n"
	    "# TYPE relayguard_shared_state_calls_total counter\n"
	    "relayguard_shared_state_calls_total{result=\"ok\"} %lu\n"
	    "relayguard_shared_state_calls_total{result=\"error\"} %lu\n"
	    "relayguard_shared_state_calls_total{result=\"busy\"} %lu\n"
	    "relayguard_shared_state_calls_total{result=\"down\"} %lu\n"
	    "# HELP relayguard_shared_state_lost_total Times the connection was lost.\n"
	    "# TYPE relayguard_shared_state_lost_total counter\n"
	    "relayguard_shared_state_lost_total %lu\n",
	    GET(n_ok), GET(n_error), GET(n_busy), GET(n_down), GET(n_lost));
	fprintf(f, "# HELP relayguard_shared_state_call_seconds Time the "
	    "shared state took per decision, lock wait and fallback included.\n"
	    "# TYPE relayguard_shared_state_call_seconds histogram\n");
	for (size_t i = 0; i + 1 < RG_NELEM(bounds); i++) {
		cum += GET(hist[i]);
		fprintf(f, "relayguard_shared_state_call_seconds_bucket{le=\"%g\"} "
		    "%lu\n", bounds[i], cum);
	}
	cum += GET(hist[RG_NELEM(bounds) - 1]);
	fprintf(f, "relayguard_shared_state_call_seconds_bucket{le=\"+Inf\"} %lu\n"
	    "relayguard_shared_state_call_seconds_count %lu\n"
	    "# HELP relayguard_shared_state_call_max_seconds The slowest call.\n"
	    "# TYPE relayguard_shared_state_call_max_seconds gauge\n"
	    "relayguard_shared_state_call_max_seconds %.6f\n", cum, cum,
	    (double)GET(max_us) / 1e6);
}
