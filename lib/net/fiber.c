/*
 * fiber.c - cooperative fibers on one libevent loop; see fiber.h.
 *
 * A fiber is a ucontext(3) with an mmap'd stack (a guard page below it;
 * freed stacks are kept for the next fiber). The loop runs on the thread's
 * own stack; every resume happens from a loop callback (a fiber's wake
 * event made active, its fd ready or its timer due), so fibers never switch
 * to each other directly. Sanitizers and valgrind are told about every
 * stack switch (ASan fake stacks, TSan fibers, valgrind stack registration).
 */
#include "lib/net/fiber.h"
#include "lib/base/log.h"
#include "lib/base/util.h"
#include "fiber_impl.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RG_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RG_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RG_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define RG_TSAN 1
#endif
#ifdef RG_ASAN
#include <dlfcn.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef RG_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RG_VALGRIND 1
#endif
#endif

/* Room for OpenSSL's handshake, a 4 KB reply or two per frame and the
 * report writers; sanitizers make frames several times larger. Pages are
 * only resident once touched: RSS follows what fibers really use. */
#if defined(RG_ASAN) || defined(RG_TSAN)
#define STACK_SIZE	(1024 * 1024)
#else
#define STACK_SIZE	(256 * 1024)
#endif

struct rg_fiber {
	ucontext_t ctx;
	void (*fn)(void *);
	void *arg;
	struct rg_fiber_group *group;
	char *map;			/* guard page + stack */
	size_t maplen;
	struct event ev;		/* fd or timer wait */
	struct event wake;		/* made active to resume the fiber */
	short got;			/* what ended the wait */
	bool done;
	struct rg_fiber_tls tls;
	struct rg_fiber *next;		/* lock or condition queue */
#ifdef RG_ASAN
	void *fake;
#endif
#ifdef RG_TSAN
	void *tsan;
#endif
#ifdef RG_VALGRIND
	unsigned vg;
#endif
};

static struct event_base *base;
static ucontext_t loop_ctx;
static _Thread_local struct rg_fiber *cur;
static size_t live, peak;
static size_t offloaded;		/* fibers waiting on a pool thread */
static char **free_stacks;		/* every stack a fiber left: see stack_put() */
static size_t nfree, capfree;
#ifdef RG_ASAN
static const void *loop_bottom;
static size_t loop_size;
#endif
#ifdef RG_TSAN
static void *loop_tsan;
#endif

#ifdef RG_ASAN
/*
 * ASan's swapcontext interceptor wipes the shadow of the stack it enters
 * and prints a warning on stderr: the switches here are annotated instead
 * (__sanitizer_*_switch_fiber), so call libc's own swapcontext.
 */
static int (*sw_context)(ucontext_t *, const ucontext_t *);

static void find_swapcontext(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);

	if (libc != NULL)
		sw_context = (int (*)(ucontext_t *, const ucontext_t *))dlsym(libc,
		    "swapcontext");
	if (sw_context == NULL)
		sw_context = swapcontext;
}
#define swapcontext(a, b) sw_context((a), (b))
#endif

static void loop_init(void)
{
	if (base != NULL)
		return;
#ifdef RG_ASAN
	find_swapcontext();
#endif
	if (evthread_use_pthreads() != 0)
		msg_fatal("libevent: cannot enable threads");
	/* The changelist folds a fiber's "done waiting, wait again" on the same
	 * descriptor into nothing, instead of an epoll_ctl pair per reply. */
	struct event_config *cfg = event_config_new();

	if (cfg != NULL)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = cfg != NULL ? event_base_new_with_config(cfg) : NULL;
	if (cfg != NULL)
		event_config_free(cfg);
	if (base == NULL)
		base = event_base_new();
	if (base == NULL)
		msg_fatal("libevent: cannot create the event loop");
#ifdef RG_TSAN
	loop_tsan = __tsan_get_current_fiber();
#endif
}

bool rg_fiber_active(void) { return cur != NULL; }
struct rg_fiber_tls *rg_fiber_tls(void) { return cur != NULL ? &cur->tls : NULL; }
size_t rg_fiber_count(void) { return live; }
size_t rg_fiber_peak(void) { return peak; }
size_t rg_fiber_stack_size(void) { return STACK_SIZE; }

/* --- switching ---------------------------------------------------------------- */

/* A finished fiber's stack waits for the next fiber, however many there
 * are: the kept stacks never outnumber the peak of live fibers, whose pages
 * were resident at that peak anyway, while an munmap (a TLB shoot-down on
 * every core the process runs on) and a fresh mmap (a page fault per
 * touched page) per fiber cost more CPU than the rest of a target's audit
 * at -j 1000. */
static void stack_put(char *map)
{
	if (nfree == capfree) {
		capfree = capfree ? capfree * 2 : 256;
		free_stacks = xrealloc(free_stacks, capfree * sizeof(*free_stacks));
	}
	free_stacks[nfree++] = map;
}

/* Loop -> fiber f; back when f yields or ends. */
static void resume(struct rg_fiber *f)
{
#ifdef RG_ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, f->map + f->maplen - STACK_SIZE, STACK_SIZE);
#endif
#ifdef RG_TSAN
	__tsan_switch_to_fiber(f->tsan, 0);
#endif
	cur = f;
	swapcontext(&loop_ctx, &f->ctx);
	cur = NULL;
#ifdef RG_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	if (f->done) {
		event_del(&f->ev);
		event_del(&f->wake);
#ifdef RG_TSAN
		__tsan_destroy_fiber(f->tsan);
#endif
#ifdef RG_VALGRIND
		VALGRIND_STACK_DEREGISTER(f->vg);
#endif
		stack_put(f->map);
		free(f);
		live--;
	}
}

/* Fiber -> loop; back when something resumes this fiber. */
static void yield(void)
{
	struct rg_fiber *f = cur;

#ifdef RG_ASAN
	__sanitizer_start_switch_fiber(f->done ? NULL : &f->fake, loop_bottom, loop_size);
#endif
#ifdef RG_TSAN
	__tsan_switch_to_fiber(loop_tsan, 0);
#endif
	swapcontext(&f->ctx, &loop_ctx);
#ifdef RG_ASAN
	__sanitizer_finish_switch_fiber(f->fake, &loop_bottom, &loop_size);
#endif
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	resume(arg);
}

static void ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rg_fiber *f = arg;

	(void)fd;
	f->got = what;
	resume(f);
}

static void wake(struct rg_fiber *f)
{
	event_active(&f->wake, EV_TIMEOUT, 0);
}

/* Yield until the timer or fd event f->ev (when added) or a wake; then
 * cancel whichever did not fire, so that no stale wake-up can resume the
 * fiber later in the middle of another wait. */
static void wait_any(struct rg_fiber *f)
{
	yield();
	event_del(&f->ev);
	event_del(&f->wake);
}

static void trampoline(void)
{
	struct rg_fiber *f = cur;

#ifdef RG_ASAN
	__sanitizer_finish_switch_fiber(NULL, &loop_bottom, &loop_size);
#endif
	f->fn(f->arg);
	f->done = true;
	if (f->group != NULL && --f->group->running == 0 && f->group->waiter != NULL)
		wake(f->group->waiter);
	yield();	/* never comes back: resume() frees f */
	msg_fatal("fiber resumed after its end");
}

void rg_fiber_spawn(struct rg_fiber_group *g, void (*fn)(void *), void *arg)
{
	struct rg_fiber *f = xcalloc(1, sizeof(*f));
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	loop_init();
	f->fn = fn;
	f->arg = arg;
	f->group = g;
	f->maplen = STACK_SIZE + page;
	if (nfree > 0) {
		f->map = free_stacks[--nfree];
#ifdef RG_ASAN
		/* the last owner's frames never returned: their redzones stay */
		__asan_unpoison_memory_region(f->map + page, STACK_SIZE);
#endif
	} else {
		f->map = mmap(NULL, f->maplen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
		if (f->map == MAP_FAILED)
			msg_fatal("fiber stack: %s", strerror(errno));
		if (mprotect(f->map, page, PROT_NONE) != 0)	/* guard page */
			msg_fatal("fiber guard page: %s", strerror(errno));
	}
	if (getcontext(&f->ctx) != 0)
		msg_fatal("getcontext: %s", strerror(errno));
	f->ctx.uc_stack.ss_sp = f->map + page;
	f->ctx.uc_stack.ss_size = STACK_SIZE;
	f->ctx.uc_link = NULL;
	makecontext(&f->ctx, trampoline, 0);
#ifdef RG_TSAN
	f->tsan = __tsan_create_fiber(0);
#endif
#ifdef RG_VALGRIND
	f->vg = VALGRIND_STACK_REGISTER(f->map + page, f->map + f->maplen);
#endif
	event_assign(&f->wake, base, -1, 0, wake_cb, f);
	event_assign(&f->ev, base, -1, 0, ev_cb, f);
	if (g != NULL)
		g->running++;
	if (++live > peak)
		peak = live;
	wake(f);
}

static struct timeval tv_until(double when)
{
	double left = when - rg_now();
	struct timeval tv = {0, 0};

	if (left > 0) {
		tv.tv_sec = (time_t)left;
		tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6) + 1;
		if (tv.tv_usec >= 1000000)
			tv.tv_sec++, tv.tv_usec -= 1000000;
	}
	return tv;
}

static void nothing_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
}

/* One turn of the loop from outside any fiber; false when nothing can
 * ever happen again (no event pending: waiting would hang). */
static bool loop_once(double deadline)
{
	struct event *t = NULL;
	int rc;

	if (deadline > 0) {
		struct timeval tv = tv_until(deadline);

		t = evtimer_new(base, nothing_cb, NULL);
		evtimer_add(t, &tv);
	}
	/* Nothing pending but a pool thread at work: its wake-up will come. */
	rc = event_base_loop(base, EVLOOP_ONCE | (offloaded ? EVLOOP_NO_EXIT_ON_EMPTY : 0));
	if (t != NULL)
		event_free(t);
	return rc == 0;
}

bool rg_fiber_group_wait(struct rg_fiber_group *g, double deadline)
{
	struct rg_fiber *f = cur;

	loop_init();
	if (f == NULL) {
		while (g->running > 0) {
			if (deadline > 0 && rg_now() >= deadline)
				return false;
			if (!loop_once(deadline))
				msg_fatal("fiber group of %zu waits on an idle loop", g->running);
		}
		return true;
	}
	while (g->running > 0) {
		if (deadline > 0 && rg_now() >= deadline)
			return false;
		g->waiter = f;
		if (deadline > 0) {
			struct timeval tv = tv_until(deadline);

			event_assign(&f->ev, base, -1, 0, ev_cb, f);
			event_add(&f->ev, &tv);
		}
		wait_any(f);
		g->waiter = NULL;
	}
	return true;
}

void rg_fiber_drain(void)
{
	if (base == NULL || cur != NULL)
		return;
	while (live > 0)
		if (!loop_once(0))
			msg_fatal("%zu fibers wait on an idle loop", live);
}

/* --- waiting -------------------------------------------------------------------- */

int rg_fiber_wait_fd(int fd, short events, double deadline)
{
	struct rg_fiber *f = cur;

	if (f == NULL) {
		for (;;) {
			double left = deadline - rg_now();
			struct pollfd p = {.fd = fd, .events = events};

			if (left <= 0)
				return 0;
			int n = poll(&p, 1, (int)(left * 1000) + 1);

			if (n > 0)
				return 1;
			if (n == 0)
				continue;	/* re-check the clock */
			if (errno != EINTR)
				return -1;
		}
	}
	for (;;) {
		struct timeval tv = tv_until(deadline);
		short what = (short)(((events & POLLIN) ? EV_READ : 0) |
		    ((events & POLLOUT) ? EV_WRITE : 0));

		if (tv.tv_sec == 0 && tv.tv_usec == 0)
			return 0;
		event_assign(&f->ev, base, fd, what, ev_cb, f);
		f->got = 0;
		if (event_add(&f->ev, &tv) != 0) {
			errno = EINVAL;
			return -1;
		}
		wait_any(f);
		if (f->got & (EV_READ | EV_WRITE))
			return 1;
		/* a timer may fire a little early: the clock decides */
	}
}

void rg_fiber_sleep_until(double when)
{
	struct rg_fiber *f = cur;

	if (f == NULL) {
		double d;

		while ((d = when - rg_now()) > 0) {
			struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};

			nanosleep(&ts, NULL);
		}
		return;
	}
	while (rg_now() < when) {
		struct timeval tv = tv_until(when);

		event_assign(&f->ev, base, -1, 0, ev_cb, f);
		event_add(&f->ev, &tv);
		wait_any(f);
	}
}

/* --- locks ---------------------------------------------------------------------- */

void rg_fiber_lock(struct rg_fiber_lock *l)
{
	struct rg_fiber *f = cur;

	if (!l->held) {
		l->held = true;
		return;
	}
	if (f == NULL) {	/* outside a fiber: turn the loop until it is free */
		while (l->held)
			if (!loop_once(0))
				msg_fatal("fiber lock held on an idle loop");
		l->held = true;
		return;
	}
	f->next = NULL;
	if (l->last)
		l->last->next = f;
	else
		l->first = f;
	l->last = f;
	yield();		/* rg_fiber_unlock() handed the lock over */
}

void rg_fiber_unlock(struct rg_fiber_lock *l)
{
	struct rg_fiber *f = l->first;

	if (f == NULL) {
		l->held = false;
		return;
	}
	l->first = f->next;
	if (l->first == NULL)
		l->last = NULL;
	wake(f);		/* held stays true: it is f's now */
}

/* --- conditions --------------------------------------------------------------- */

bool rg_fiber_cond_wait(struct rg_fiber_cond *c, double deadline)
{
	struct rg_fiber *f = cur;

	if (f == NULL) {
		loop_once(deadline);
		return true;
	}
	if (deadline > 0 && rg_now() >= deadline)
		return false;
	f->next = NULL;
	if (c->last)
		c->last->next = f;
	else
		c->first = f;
	c->last = f;
	f->got = 0;
	if (deadline > 0) {
		struct timeval tv = tv_until(deadline);

		event_assign(&f->ev, base, -1, 0, ev_cb, f);
		event_add(&f->ev, &tv);
	}
	wait_any(f);
	if (f->got == 0)
		return true;	/* broadcast: it took us off the list */
	/* the deadline: take ourselves off the list */
	struct rg_fiber **pp = &c->first, *prev = NULL;

	while (*pp != NULL && *pp != f) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == f) {
		*pp = f->next;
		if (c->last == f)
			c->last = prev;
	}
	return false;
}

void rg_fiber_cond_broadcast(struct rg_fiber_cond *c)
{
	struct rg_fiber *f = c->first;

	c->first = c->last = NULL;
	while (f != NULL) {
		struct rg_fiber *next = f->next;

		wake(f);
		f = next;
	}
}

/* --- for fiber_offload.c -------------------------------------------------------- */

struct rg_fiber *rg_fiber__self(void)
{
	return cur;
}

void rg_fiber__wake(struct rg_fiber *f)
{
	wake(f);
}

void rg_fiber__park_offloaded(void)
{
	offloaded++;
	yield();
	offloaded--;
}
