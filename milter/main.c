/*
 * relayguard-milter - refuse unauthorised relaying at RCPT and record every
 * relay attempt; see relayguard-milter(8).
 *
 * Startup (REFERENCE.md 5): parse the config completely; block SIGUSR1
 * before any thread exists (every thread inherits the mask); open and lock
 * the pid file (a second instance stops here, daemon.h); smfi_setconn,
 * smfi_register, smfi_opensocket, the unix socket given to the UserID user
 * and group (daemon.h); detach unless -f; write the pid file;
 * drop privileges (setgroups, setresgid, setresuid) right after the socket
 * is opened; open the event log; start the signal thread; only then
 * does the parent of the detach exit (0, or the daemon's failure status
 * with its reason on stderr); smfi_main.
 *
 * Signals: libmilter's own signal thread turns SIGTERM and SIGHUP into an
 * orderly stop (smfi_stop: no new connections, running ones finish) and
 * SIGINT into an abort. SIGUSR1 is ours: the signal thread (sigtimedwait,
 * never a handler with flags read across threads) parses the config file
 * again and swaps it in only when it parsed completely; a broken file is
 * refused with a log line and the running config stays. The same thread
 * writes the per-client relay-attempt summaries every SummaryInterval
 * and, once a second, the bounce-storm summaries and end events.
 */
#include "daemon.h"
#include "milter.h"
#include "milter/bounce/bounce.h"
#include "milter/policy/config.h"
#include "milter/policy/configadvice.h"
#include "milter/policy/configshow.h"
#include "lib/mail/eventlog.h"
#include "lib/base/filetrust.h"
#include "lib/base/log.h"
#include "lib/base/outfile.h"
#include "lib/base/regfile.h"
#include "lib/base/util.h"
#include "abuser.h"
#include "shared.h"
#include "milter/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG	"/etc/relayguard/relayguard.conf"

static const char *config_path = DEFAULT_CONFIG;
static volatile int signal_thread_stop;	/* written once by main, atomics */

/* Standard output fully written, or exit status 1 (outfile.h). */
static int exit_status_with_stdout(int rc)
{
	return rg_close_stdout() != 0 ? 1 : rc;
}

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: relayguard-milter [-f] [-v] [-c FILE]\n"
	    "       relayguard-milter -t | -n [-c FILE]\n"
	    "       relayguard-milter -d\n"
	    "       relayguard-milter --import postfix[:DIR] | sendmail[:DIR]\n"
	    "       relayguard-milter -h | -V\n"
	    "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -f, --foreground   stay in the foreground, log to stderr as well as syslog\n"
	    "  -t, --test         check the configuration and exit (0 good, 1 bad)\n"
	    "  -n, --non-default  print the keys the configuration sets (postconf -n)\n"
	    "  -d, --defaults     print every key's default (postconf -d)\n"
	    "  -v, --verbose      verbose logging\n"
	    "  -V, --version      print the version\n"
	    "  -h, --help         this help\n"
	    "exit status: 0 good, 1 error, 64 usage error\n"
	    "signals: SIGUSR1 reload, SIGUSR2 metrics to the log, SIGTERM/SIGHUP stop, SIGINT abort\n");
}

/* What the command line asks for; a usage error has exited with EX_USAGE. */
struct options {
	bool foreground;
	int action;		/* 0 (run the daemon), 't', 'n' or 'd' */
};

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"test", no_argument, NULL, 't'},
		{"non-default", no_argument, NULL, 'n'},
		{"defaults", no_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "c:ftndvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 't':
		case 'n':
		case 'd':
			if (o->action != 0 && o->action != ch) {
				msg_error("-%c and -%c exclude each other",
				    o->action, ch);
				usage(stderr);
				exit(EX_USAGE);
			}
			o->action = ch;
			break;
		case 'v':
			msg_verbose_level++;
			break;
		case 'V':
			printf("%s %s (libmilter API %#x)\n", RG_MILTER_NAME,
			    RG_MILTER_VERSION, SMFI_VERSION);
			exit(exit_status_with_stdout(0));
		case 'h':
			usage(stdout);
			exit(exit_status_with_stdout(0));
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (optind != argc) {
		msg_error("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		exit(EX_USAGE);
	}
}

/*
 * Detach, but let the parent (what "relayguard-milter" or systemd's
 * Type=forking sees) exit only when the daemon is really ready: the child
 * writes one byte to ready_fd after the whole setup (privilege drop, event
 * log, metrics listener); a child that dies before that makes the parent
 * exit with the child's status, its fatal message already on the shared
 * standard error. Returns the write end, kept by the child.
 */
static int detach(void)
{
	int p[2], fd, status;
	pid_t pid;
	char b;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) != 0)
		msg_fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		msg_fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &b, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(0);
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) != 0)
			_exit(WEXITSTATUS(status));
		fprintf(stderr, "%s: the daemon stopped during its start; "
		    "see the mail log\n", RG_MILTER_NAME);
		_exit(1);
	}
	close(p[0]);
	msg_stderr_errors_only(true);
	if (setsid() < 0)
		msg_fatal("setsid: %s", strerror(errno));
	if (chdir("/") != 0)
		msg_fatal("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);	/* stderr stays until ready: fatal reasons */
		if (fd > 2)
			close(fd);
	}
	return p[1];
}

/* The daemon is ready: release the waiting parent, stop using stderr. */
static void detach_ready(int ready_fd)
{
	int fd;

	if (ready_fd < 0)
		return;
	msg_stderr_enable(false);
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (write(ready_fd, "", 1) != 1)
		msg_warn("cannot tell the starting process: %s", strerror(errno));
	close(ready_fd);
}

static void bounce_sensors_start(const struct rg_config *c)
{
	struct bounce_limits l;

	milter_bounce_limits_of(c, &l);
	milter_bounce_generated = bounce_sensor_new("generated",
	    (size_t)c->bounce_table_size, &l);
	milter_bounce_inbound = bounce_sensor_new("inbound",
	    (size_t)c->bounce_table_size, &l);
	msg_verbose("bounce sensors: window %ld s, %zu bytes each",
	    c->bounce_window, bounce_sensor_bytes(milter_bounce_generated));
}

/* "FILE:LINE: warning: text", as the parse errors name their line. */
static void advice_to_stderr(const char *where, const char *text, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "%s: warning: %s\n", where, text);
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	struct timespec tick = {1, 0};
	double last_summary = rg_now(), now;
	struct rg_config *c;
	long interval;

	while (!__atomic_load_n(&signal_thread_stop, __ATOMIC_ACQUIRE)) {
		int sig = sigtimedwait(set, NULL, &tick);

		if (sig == SIGUSR1)
			milter_reload(config_path);
		else if (sig == SIGUSR2)
			milter_metrics_dump();
		now = rg_now();
		c = rg_config_current();
		interval = c ? c->summary_interval : 600;
		rg_config_unref(c);
		if (now - last_summary >= (double)interval) {
			milter_summary(now);
			last_summary = now;
		}
		milter_bounce_tick(now);
		abuser_tick(now);
		milter_metrics_tick();
	}
	milter_summary(rg_now());
	return NULL;
}

/* What -t can say about EventLog and PidFile without creating them: a
 * link or a FIFO there would stop the start (regfile.h). */
static bool check_files(const struct rg_config *c)
{
	const char *what[] = {"EventLog", "PidFile"};
	const char *path[] = {c->event_log, c->pid_file};
	char err[RG_CONFIG_ERRLEN], where[4200];
	bool ok = true;

	for (size_t i = 0; i < RG_NELEM(what); i++)
		if (path[i] != NULL &&
		    rg_regfile_check(what[i], path[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", rg_config_where(c,
			    rg_config_key_line(c, what[i]), where, sizeof(where)),
			    err);
			ok = false;
		}
	return ok;
}

static void check_only(struct rg_config *c)
{
	rg_config_advise(c, geteuid() == 0, advice_to_stderr, NULL);
	if (!check_files(c)) {
		rg_config_unref(c);
		exit(1);
	}
	if (shared_check(c, stdout, stderr) != 0) {
		rg_config_unref(c);
		exit(1);
	}
	printf("%s: configuration OK (mode %s, socket %s, %zu trusted "
	    "networks, %zu local and %zu relay domains)\n", c->path,
	    rg_config_enum_name("Mode", c->mode), c->socket,
	    c->trusted_networks.n,
	    c->local_domains.n + c->local_domains.literals.n,
	    c->relay_domains.n + c->relay_domains.literals.n);
	abuser_describe(c, stdout);
	rg_config_unref(c);
	exit(exit_status_with_stdout(0));
}

/* -n: the keys the file sets, as postconf -n prints main.cf's. */
static void show_set(struct rg_config *c)
{
	int rc = rg_config_show_set(c, stdout);

	rg_config_unref(c);
	exit(exit_status_with_stdout(rc == 0 ? 0 : 1));
}

static void open_socket(const struct rg_config *c, const struct milter_user *u)
{
	mode_t old;
	int rc;

	milter_socket_dir_prepare(c->socket, u);
	milter_socket_check_free(c->socket);
	if (smfi_setconn((char *)c->socket) != MI_SUCCESS)
		msg_fatal("smfi_setconn %s failed", c->socket);
	if (smfi_register(milter_desc) != MI_SUCCESS)
		msg_fatal("smfi_register failed");
	old = umask((mode_t)(~c->socket_mode & 0777));
	rc = smfi_opensocket(true);
	umask(old);
	if (rc != MI_SUCCESS)
		msg_fatal("cannot open milter socket %s", c->socket);
	milter_socket_note(c->socket);
	milter_socket_give(c->socket, u);
}

/*
 * The config the daemon starts with, read and checked completely; -n and -t
 * stop here with their output, a bad file with its reason and status 1.
 */
static struct rg_config *config_for(const struct options *o)
{
	char err[RG_CONFIG_ERRLEN];
	struct rg_config *c;

	/* who started us: the config must belong to root or that user, also
	 * at a reload after the privilege drop (filetrust.h) */
	rg_file_trust_enable();
	if ((c = rg_config_load(config_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	if (o->action == 'n')
		show_set(c);
	if (milter_dns_attach(c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", config_path, err);
		rg_config_unref(c);
		exit(1);
	}
	if (o->action == 't')
		check_only(c);
	return c;
}

/*
 * Before any thread exists: every thread inherits this mask, so SIGUSR1
 * reaches only our sigtimedwait and SIGHUP/SIGTERM/SIGINT only libmilter's
 * sigwait thread (smfi_main blocks them too, but only from then on: our
 * signal thread starts earlier and would otherwise take a SIGTERM's default
 * action, killing the process without the orderly stop). ours gets the
 * signals our thread waits for.
 */
static void signals_block(sigset_t *ours)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		msg_fatal("pthread_sigmask failed");
	/* An EventLog past a file size limit (ulimit -f, LimitFSIZE=) is a
	 * write error to log and count, not a signal that kills the milter. */
	signal(SIGXFSZ, SIG_IGN);
	sigemptyset(ours);
	sigaddset(ours, SIGUSR1);
	sigaddset(ours, SIGUSR2);
}

static void log_start(const struct rg_config *c)
{
	msg_info("starting: socket=%s mode=%s config=%s spf=%s dnsbl=%zu "
	    "reverse_dns=%s nameservers=%s", c->socket,
	    rg_config_enum_name("Mode", c->mode), config_path,
	    c->spf ? "yes" : "no", c->dnsbl.n, c->reverse_dns ? "yes" : "no",
	    c->runtime ? rg_dns_describe(((struct milter_dns *)c->runtime)->dns) :
	    "-");
}

/* After smfi_main(): stop the metrics listener and the signal thread,
 * remove the pid file and our socket, close the event log. */
static void stop(pthread_t sigthr)
{
	struct rg_config *c;

	milter_metrics_stop();
	__atomic_store_n(&signal_thread_stop, 1, __ATOMIC_RELEASE);
	pthread_join(sigthr, NULL);
	milter_pidfile_remove();
	c = rg_config_current();
	/* libmilter leaves a unix socket behind: ours only (daemon.h) */
	if (c != NULL)
		milter_socket_remove(c->socket);
	rg_config_unref(c);
	/*
	 * smfi_main() returns without waiting for the sessions still running
	 * (smfi_stop(3)): the installed config, the client counter and the
	 * bounce sensors stay in place until the process exits, so that a
	 * late callback never touches freed memory. The event log closes under
	 * its lock; later writes are dropped.
	 */
	rg_eventlog_close();
}

int main(int argc, char **argv)
{
	char err[RG_CONFIG_ERRLEN];
	struct options opt;
	struct rg_config *c;
	struct milter_user user;
	pthread_t sigthr;
	sigset_t set;
	int rc, ready_fd = -1;

	msg_init(argv[0]);
	if (argc >= 2 && strncmp(argv[1], "--import", 8) == 0)
		return exit_status_with_stdout(milter_import_main(argc, argv));
	parse_options(argc, argv, &opt);
	if (opt.action == 'd')
		return exit_status_with_stdout(rg_config_show_defaults(stdout)
		    == 0 ? 0 : 1);
	c = config_for(&opt);
	msg_verbose_config(c->log_verbose ? 1 : 0);
	msg_syslog_open(RG_MILTER_NAME, rg_config_syslog_facility(c));
	rg_config_advise(c, geteuid() == 0, milter_advice_to_log, NULL);
	signals_block(&set);

	if (milter_user_lookup(c->user_id, &user, err, sizeof(err)) != 0)
		msg_fatal("%s: %s", config_path, err);
	milter_pidfile_open(c->pid_file, &user);	/* before the socket */
	open_socket(c, &user);
	if (!opt.foreground)
		ready_fd = detach();
	milter_pidfile_write();
	milter_drop_privileges(&user);
	if (c->event_log != NULL &&
	    rg_eventlog_open(c->event_log, err, sizeof(err)) != 0)
		msg_fatal("%s", err);
	rg_metrics_init();
	milter_default_host(c);
	if (milter_metrics_start(c->metrics_listen, err, sizeof(err)) != 0)
		msg_fatal("%s", err);
	milter_clients = rg_client_counter_new((size_t)c->client_table_size,
	    rg_now());
	bounce_sensors_start(c);
	abuser_start((size_t)c->client_table_size);
	rg_metrics_set_extra(abuser_metrics);
	rc = shared_start(c, true, err, sizeof(err));
	if (rc < 0)
		msg_fatal("%s: SharedState: %s", config_path, err);
	if (rc > 0)
		msg_warn("SharedState: %s: deciding on local state until it "
		    "answers", err);
	log_start(c);		/* before the install: then a reload may release c */
	rg_config_install(c);
	milter_clock_event("milter_start");

	if (pthread_create(&sigthr, NULL, signal_thread, &set) != 0)
		msg_fatal("cannot start the signal thread");
	detach_ready(ready_fd);
	rc = smfi_main();
	msg_info("stopping (smfi_main returned %d)", rc);
	stop(sigthr);
	return rc == MI_SUCCESS ? 0 : 1;
}
