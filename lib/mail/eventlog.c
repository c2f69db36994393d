/*
 * eventlog.c - key=value lines, JSON-lines event log, per-client relay
 * attempt counter; see eventlog.h.
 */
#include "lib/mail/eventlog.h"
#include "lib/base/log.h"
#include "lib/base/regfile.h"
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- key=value ----------------------------------------------------------- */

/* Append " key=value" at *used; a pair that does not fit is left out whole.
 * The value is cleaned with the KV rule (textclean.h: printable ASCII,
 * \xHH / \uHHHH escapes, \" and \\) and double-quoted when it is empty,
 * holds a blank or '=', or was changed by the cleaning. */
static void kv_add_cap(char *buf, size_t len, size_t *used, const char *key,
    const char *v, size_t cap)
{
	char val[2048];
	size_t n;
	int w;
	bool quote;

	if (v == NULL || len == 0)
		return;
	if (cap > sizeof(val))
		cap = sizeof(val);
	n = rg_clean(RG_SINK_KV, val, cap, v, strlen(v));
	quote = n == 0 || strpbrk(val, " =") != NULL || strcmp(val, v) != 0;
	w = snprintf(buf + *used, len - *used, "%s%s=%s%s%s", *used ? " " : "",
	    key, quote ? "\"" : "", val, quote ? "\"" : "");
	if (w < 0 || (size_t)w >= len - *used) {
		buf[*used] = '\0';
		return;
	}
	*used += (size_t)w;
}

/*
 * Caps per field (cleaned bytes, "..." at a cut) so that one hostile value
 * (a 20 KB HELO or recipient) cannot push the fields after it - queue_id,
 * mode, reason - out of the line: HELO and host names 255 (a DNS name's
 * maximum), addresses 320 (RFC 5321 4.5.3.1.3: a path is at most 256),
 * other values 1024. The whole line stays below log.c's line length.
 */
#define KV_CAP_NAME	256
#define KV_CAP_ADDR	321
#define KV_CAP_OTHER	1024

static void kv_add(char *buf, size_t len, size_t *used, const char *key,
    const char *v)
{
	kv_add_cap(buf, len, used, key, v, KV_CAP_OTHER);
}

/* An extra field: string, number, or "a(3),b(2)". */
static void kv_add_field(char *buf, size_t len, size_t *used,
    const struct rg_event_field *f)
{
	char tmp[1024], num[32];
	size_t o = 0;

	if (f->items != NULL) {
		tmp[0] = '\0';
		for (size_t i = 0; i < f->nitems && o < sizeof(tmp); i++) {
			int n = snprintf(tmp + o, sizeof(tmp) - o, "%s%s(%lu)",
			    i ? "," : "", f->items[i].value, f->items[i].count);

			if (n < 0)
				break;
			o += (size_t)n;
		}
		if (f->nitems > 0)
			kv_add(buf, len, used, f->key, tmp);
	} else if (f->str != NULL) {
		kv_add(buf, len, used, f->key, f->str);
	} else {
		snprintf(num, sizeof(num), "%ld", f->num);
		kv_add(buf, len, used, f->key, num);
	}
}

/*
 * The default host may change at a reload while sessions read it: every
 * value ever set stays allocated (a reader may still hold it; a handful
 * per process life) and the current one is swapped in atomically.
 */
struct host_name {
	struct host_name *next;
	char name[256];
};
static struct host_name *host_names;	/* written by one thread only */
static const char *default_host = "";

void rg_event_set_default_host(const char *host)
{
	struct host_name *h;
	const char *cur = __atomic_load_n(&default_host, __ATOMIC_ACQUIRE);

	if (host == NULL)
		host = "";
	if (strcmp(cur, host) == 0)
		return;
	for (h = host_names; h != NULL; h = h->next)
		if (strcmp(h->name, host) == 0)
			break;
	if (h == NULL) {
		h = xmalloc(sizeof(*h));
		strlcpy_rg(h->name, host, sizeof(h->name));
		h->next = host_names;
		host_names = h;
	}
	__atomic_store_n(&default_host, h->name, __ATOMIC_RELEASE);
}

const char *rg_event_default_host(void)
{
	return __atomic_load_n(&default_host, __ATOMIC_ACQUIRE);
}

/* The host field's value, NULL (omitted) when there is none. */
static const char *event_host(const struct rg_event *ev)
{
	const char *h = ev->host != NULL && ev->host[0] ? ev->host :
	    rg_event_default_host();

	return h[0] ? h : NULL;
}

char *rg_event_name_canonical(const char *name, char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return buf;
	for (i = 0; name != NULL && name[i] && i + 1 < len; i++)
		buf[i] = name[i] == '-' ? '_' : name[i];
	buf[i] = '\0';
	return buf;
}

char *rg_event_format_kv(const struct rg_event *ev, char *buf, size_t len)
{
	size_t used = 0;
	char num[32];

	if (len == 0)
		return buf;
	buf[0] = '\0';
	kv_add(buf, len, &used, "event", ev->event);
	kv_add_cap(buf, len, &used, "host", event_host(ev), KV_CAP_NAME);
	kv_add(buf, len, &used, "action", ev->action);
	kv_add_cap(buf, len, &used, "client_addr", ev->client_addr, KV_CAP_NAME);
	kv_add_cap(buf, len, &used, "client_name", ev->client_name, KV_CAP_NAME);
	kv_add_cap(buf, len, &used, "helo", ev->helo, KV_CAP_NAME);
	kv_add_cap(buf, len, &used, "sender", ev->sender, KV_CAP_ADDR);
	kv_add_cap(buf, len, &used, "recipient", ev->recipient, KV_CAP_ADDR);
	kv_add_cap(buf, len, &used, "auth", ev->auth_authen, KV_CAP_NAME);
	kv_add(buf, len, &used, "queue_id", ev->queue_id);
	kv_add(buf, len, &used, "mode", ev->mode);
	if (ev->count > 0) {
		snprintf(num, sizeof(num), "%ld", ev->count);
		kv_add(buf, len, &used, "count", num);
		snprintf(num, sizeof(num), "%ld", ev->window);
		kv_add(buf, len, &used, "window", num);
	}
	for (size_t i = 0; i < ev->nfields; i++)
		kv_add_field(buf, len, &used, &ev->fields[i]);
	kv_add(buf, len, &used, "reason", ev->reason);
	return buf;
}

/* --- JSON lines ------------------------------------------------------------ */

static pthread_mutex_t eventlog_lock = PTHREAD_MUTEX_INITIALIZER;
static int eventlog_fd = -1;
static char *eventlog_path;		/* for messages; under the lock */
static unsigned long eventlog_lost;	/* events lost since the last good write */

int rg_eventlog_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = -1, old;
	char *copy = NULL;

	if (path != NULL) {
		fd = rg_regfile_open("EventLog", path, O_WRONLY | O_APPEND |
		    O_CREAT, 0640, &st, err, errlen);
		if (fd < 0)
			return -1;
		copy = xstrdup(path);
	}
	pthread_mutex_lock(&eventlog_lock);
	old = eventlog_fd;
	eventlog_fd = fd;
	free(eventlog_path);
	eventlog_path = copy;
	pthread_mutex_unlock(&eventlog_lock);
	if (old >= 0)
		close(old);
	return 0;
}

void rg_eventlog_close(void)
{
	char err[8];

	rg_eventlog_open(NULL, err, sizeof(err));
}

/* Network input may be anything: the JSON rule (textclean.h) keeps valid
 * UTF-8 and escapes controls, C1, bidi controls and broken bytes, so
 * json_string() always accepts the result. */
static void json_set_str(json_t *o, const char *key, const char *v)
{
	json_t *s;
	char *clean;

	if (v == NULL)
		return;
	clean = rg_clean_dup(RG_SINK_JSON, v);
	s = json_string(clean);
	free(clean);
	if (s != NULL)
		json_object_set_new(o, key, s);
}

static void json_set_field(json_t *o, const struct rg_event_field *f)
{
	json_t *a, *item;

	if (f->items != NULL) {
		a = json_array();
		for (size_t i = 0; i < f->nitems; i++) {
			item = json_object();
			json_set_str(item, "value", f->items[i].value);
			json_object_set_new(item, "count",
			    json_integer((json_int_t)f->items[i].count));
			json_array_append_new(a, item);
		}
		json_object_set_new(o, f->key, a);
	} else if (f->str != NULL) {
		json_set_str(o, f->key, f->str);
	} else {
		json_object_set_new(o, f->key, json_integer(f->num));
	}
}

static void (*write_error_hook)(void);	/* rg_eventlog_on_write_error() */

void rg_eventlog_on_write_error(void (*fn)(void))
{
	write_error_hook = fn;
}

/*
 * One lost event: counted, and said once per spell of failures (a full
 * disk would otherwise add a log line per message); the first good write
 * after the spell says how many were lost. Mail goes on either way.
 */
static void eventlog_failed(const char *why, int e)
{
	unsigned long lost;
	char *path;

	if (write_error_hook != NULL)
		write_error_hook();
	pthread_mutex_lock(&eventlog_lock);
	lost = ++eventlog_lost;
	path = lost == 1 && eventlog_path ? xstrdup(eventlog_path) : NULL;
	pthread_mutex_unlock(&eventlog_lock);
	if (lost == 1)
		msg_error("EventLog %s: %s%s%s: this event and the next ones are "
		    "lost until a write works again (counted in "
		    "relayguard_event_log_write_errors_total); mail is not "
		    "affected", path ? path : "-", why, e ? ": " : "",
		    e ? strerror(e) : "");
	free(path);
}

/* The spell of failures ended: say how many events it cost. */
static void eventlog_recovered(unsigned long lost, const char *path)
{
	if (lost > 0)
		msg_warn("EventLog %s: writes work again; %lu event%s lost "
		    "before this one", path, lost, lost == 1 ? " was" : "s were");
}

/* Append one whole line. A line cut short (a disk filling up) is cut off
 * again, so that the next one starts at a line boundary. 0 or -1 (logged). */
static int eventlog_append(const char *line, size_t n)
{
	unsigned long lost = 0;
	char *path = NULL;
	size_t done = 0;
	ssize_t w;
	off_t end;
	struct stat st;
	int e = 0;

	pthread_mutex_lock(&eventlog_lock);
	if (eventlog_fd < 0) {
		pthread_mutex_unlock(&eventlog_lock);
		return 0;
	}
	while (done < n && e == 0) {
		if ((w = write(eventlog_fd, line + done, n - done)) > 0)
			done += (size_t)w;
		else if (w == 0)
			e = EIO;
		else if (errno != EINTR)
			e = errno;
	}
	/* O_APPEND: the offset is the end of our own cut line; remove it only
	 * while nobody else (a second writer, copytruncate) wrote after it */
	if (e != 0 && done > 0 && (end = lseek(eventlog_fd, 0, SEEK_CUR)) >=
	    (off_t)done && fstat(eventlog_fd, &st) == 0 && st.st_size == end &&
	    ftruncate(eventlog_fd, end - (off_t)done) != 0)
		msg_warn("EventLog %s: cannot remove a cut line: %s",
		    eventlog_path ? eventlog_path : "-", strerror(errno));
	if (e == 0 && eventlog_lost > 0) {
		lost = eventlog_lost;
		eventlog_lost = 0;
		path = xstrdup(eventlog_path ? eventlog_path : "-");
	}
	pthread_mutex_unlock(&eventlog_lock);
	if (e == 0) {
		eventlog_recovered(lost, path);
		free(path);
		return 0;
	}
	eventlog_failed("cannot write an event", e);
	return -1;
}

int rg_eventlog_write(const struct rg_event *ev)
{
	char when[RG_TIME_ISO_LEN];
	json_t *o;
	char *line;
	size_t n;
	int rc;

	pthread_mutex_lock(&eventlog_lock);
	if (eventlog_fd < 0) {
		pthread_mutex_unlock(&eventlog_lock);
		return 0;
	}
	pthread_mutex_unlock(&eventlog_lock);

	o = json_object();
	json_object_set_new(o, "time", json_string(rg_time_iso8601(NULL, when,
	    sizeof(when))));
	json_set_str(o, "event", ev->event);
	json_set_str(o, "host", event_host(ev));
	json_set_str(o, "action", ev->action);
	json_set_str(o, "client_addr", ev->client_addr);
	json_set_str(o, "client_name", ev->client_name);
	json_set_str(o, "helo", ev->helo);
	json_set_str(o, "sender", ev->sender);
	json_set_str(o, "recipient", ev->recipient);
	json_set_str(o, "auth", ev->auth_authen);
	json_set_str(o, "queue_id", ev->queue_id);
	json_set_str(o, "mode", ev->mode);
	if (ev->count > 0) {
		json_object_set_new(o, "count", json_integer(ev->count));
		json_object_set_new(o, "window_seconds", json_integer(ev->window));
	}
	for (size_t i = 0; i < ev->nfields; i++)
		json_set_field(o, &ev->fields[i]);
	json_set_str(o, "reason", ev->reason);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line == NULL) {
		eventlog_failed("cannot format the event", 0);
		return -1;
	}
	n = strlen(line);
	line = xrealloc(line, n + 2);
	line[n++] = '\n';
	line[n] = '\0';

	rc = eventlog_append(line, n);
	free(line);
	return rc;
}
