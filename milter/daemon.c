/*
 * daemon.c - relayguard-milter's privileged start; see daemon.h.
 *
 * Why chown after bind rather than bind after the drop: the socket's
 * directory usually belongs to root (or lives in Postfix's queue
 * directory), and the next start must be able to remove a stale socket.
 * libmilter binds as root under our umask (~SocketMode), then the socket
 * node is given to the UserID user and group with lchown (no symlink is
 * followed; the directory is checked first, so nobody else can swap the
 * node in between). A missing directory is created for the UserID user,
 * as tmpfiles.d would, so that the daemon can remove its socket at exit.
 */
#include "daemon.h"

#include "milter/policy/config.h"
#include "lib/base/log.h"
#include "lib/base/regfile.h"
#include "lib/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int milter_user_lookup(const char *spec, struct milter_user *u, char *err,
    size_t errlen)
{
	char buf[256], why[512], *group;
	struct passwd *pw;
	struct group *gr;

	memset(u, 0, sizeof(*u));
	if (spec == NULL)
		return 0;
	if (strlcpy_rg(buf, spec, sizeof(buf)) >= sizeof(buf))
		return rg_set_err(err, errlen, "UserID: '%s' is too long", spec);
	if ((group = strchr(buf, ':')) != NULL)
		*group++ = '\0';
	if ((pw = getpwnam(buf)) == NULL) {
		rg_config_unknown_user(buf, why, sizeof(why));
		return rg_set_err(err, errlen, "UserID: %s", why);
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			return rg_set_err(err, errlen, "UserID: unknown group '%s'",
			    group);
		u->gid = gr->gr_gid;
	}
	strlcpy_rg(u->name, buf, sizeof(u->name));
	u->set = true;
	return 0;
}

const char *milter_socket_path(const char *spec)
{
	if (spec == NULL)
		return NULL;
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/* The directory part of path into dir; false when path has no '/'. */
static bool dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return false;
	if (slash == path)
		strlcpy_rg(dir, "/", len);
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
	return true;
}

/* Create a missing directory for u (mode), refuse one anybody may write
 * without the sticky bit; what names it in messages ("socket"). The
 * directory's stat goes to *out when out is not NULL. */
static void dir_prepare(const char *dir, mode_t mode, const struct milter_user *u,
    const char *what, struct stat *out)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT)
			msg_fatal("%s directory %s: %s", what, dir, strerror(errno));
		if (mkdir(dir, mode) != 0 || chmod(dir, mode) != 0)
			msg_fatal("cannot create the %s directory %s: %s%s", what,
			    dir, strerror(errno), errno == EROFS ? " (systemd's "
			    "ProtectSystem=strict: create it beforehand, e.g. with "
			    "tmpfiles.d; see relayguard-milter(8) FILES)" : "");
		if (u->set && geteuid() == 0 && lchown(dir, u->uid, u->gid) != 0)
			msg_fatal("cannot give the %s directory %s to %s: %s", what,
			    dir, u->name, strerror(errno));
		msg_info("created the %s directory %s (mode %04o%s%s)", what,
		    dir, (unsigned)mode, u->set ? ", owner " : "",
		    u->set ? u->name : "");
		if (lstat(dir, &st) != 0)
			msg_fatal("%s directory %s: %s", what, dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		msg_fatal("%s directory %s is not a directory", what, dir);
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		msg_fatal("%s directory %s is writable by anybody (mode %04o) "
		    "without the sticky bit: anybody could replace the %s",
		    what, dir, (unsigned)(st.st_mode & 07777), what);
	if (out != NULL)
		*out = st;
}

void milter_socket_dir_prepare(const char *spec, const struct milter_user *u)
{
	const char *path = milter_socket_path(spec);
	char dir[4096];

	if (path != NULL && dir_of(path, dir, sizeof(dir)))
		dir_prepare(dir, 0750, u, "socket", NULL);
}

void milter_socket_give(const char *spec, const struct milter_user *u)
{
	const char *path = milter_socket_path(spec);
	struct stat st;

	if (path == NULL || !u->set || geteuid() != 0)
		return;
	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_uid != geteuid())
		msg_fatal("socket %s: not the socket just created", path);
	if (lchown(path, u->uid, u->gid) != 0)
		msg_fatal("cannot give the socket %s to %s: %s", path, u->name,
		    strerror(errno));
	msg_verbose("socket %s: owner %s, group %ld, mode %04o", path, u->name,
	    (long)u->gid, (unsigned)(st.st_mode & 07777));
}

static struct {
	bool noted;
	dev_t dev;
	ino_t ino;
} sock_node;

void milter_socket_check_free(const char *spec)
{
	const char *path = milter_socket_path(spec);
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	if (path == NULL || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;
	if (strlen(path) >= sizeof(sa.sun_path))
		return;		/* libmilter refuses it with its own message */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		msg_fatal("socket: %s", strerror(errno));
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0)
		msg_fatal("socket %s: another process (a running "
		    "relayguard-milter?) answers on it: refusing to take it "
		    "over; stop that one first", path);
}

void milter_socket_note(const char *spec)
{
	const char *path = milter_socket_path(spec);
	struct stat st;

	if (path != NULL && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		sock_node.noted = true;
		sock_node.dev = st.st_dev;
		sock_node.ino = st.st_ino;
	}
}

void milter_socket_remove(const char *spec)
{
	const char *path = milter_socket_path(spec);
	struct stat st;

	/* removing it may fail after the privilege drop; the next start
	 * removes a stale node anyway */
	if (path != NULL && sock_node.noted && lstat(path, &st) == 0 &&
	    st.st_dev == sock_node.dev && st.st_ino == sock_node.ino)
		(void)unlink(path);
}

static struct {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
} pidfile = {.fd = -1};

/* May user u (or, without UserID, this process) write directory st? */
static bool dir_writable_by(const struct stat *st, const struct milter_user *u)
{
	uid_t uid = u->set ? u->uid : geteuid();
	gid_t gid = u->set ? u->gid : getegid();

	if (uid == 0 || st->st_uid == uid)
		return uid == 0 || (st->st_mode & S_IWUSR);
	if (st->st_gid == gid)
		return (st->st_mode & S_IWGRP) != 0;
	return (st->st_mode & S_IWOTH) != 0;
}

/* The pid another instance wrote into fd, or 0. */
static long pid_in(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Is process pid alive (a zombie is not: /proc/PID/stat state Z)? */
static bool pid_running(long pid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	bool zombie = false;

	if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (paren = strrchr(buf, ')')) != NULL)
			zombie = paren[1] == ' ' && paren[2] == 'Z';
		fclose(f);
	}
	return !zombie;
}

static void pidfile_atexit(void)
{
	milter_pidfile_remove();
}

void milter_pidfile_open(const char *path, const struct milter_user *u)
{
	char dir[4096], err[4200];
	struct stat st, dst;
	int fd;

	if (path == NULL)
		return;
	if (dir_of(path, dir, sizeof(dir)))
		dir_prepare(dir, 0755, u, "pid file", &dst);
	/* 0600: a file others may open is a file others may flock, which
	 * would stop every restart (lock busy) */
	fd = rg_regfile_open("PidFile", path, O_RDWR | O_CREAT, 0600, &st, err,
	    sizeof(err));
	if (fd < 0)
		msg_fatal("%s", err);
	if (st.st_nlink != 1)
		msg_fatal("PidFile %s has %lu hard links: refusing to write "
		    "through it", path, (unsigned long)st.st_nlink);
	if (st.st_uid != geteuid() && !(u->set && st.st_uid == u->uid))
		msg_fatal("PidFile %s belongs to uid %ld, neither to us nor to "
		    "the UserID user", path, (long)st.st_uid);
	if ((st.st_mode & 0077) != 0 && fchmod(fd, 0600) != 0)
		msg_fatal("PidFile %s: cannot make it private (mode 0600): %s",
		    path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		long other = pid_in(fd);

		if (errno != EWOULDBLOCK)
			msg_fatal("cannot lock PidFile %s: %s", path,
			    strerror(errno));
		if (pid_running(other))
			msg_fatal("another relayguard-milter (pid %ld) is running "
			    "with PidFile %s: refusing to start a second instance",
			    other, path);
		msg_fatal("PidFile %s is locked by another process, but the pid "
		    "it names (%ld) is not running: find the holder with "
		    "\"fuser -v %s\"; refusing to start", path, other, path);
	}
	pidfile.fd = fd;
	pidfile.path = xstrdup(path);
	pidfile.dev = st.st_dev;
	pidfile.ino = st.st_ino;
	atexit(pidfile_atexit);
	if (u->set && !dir_writable_by(&dst, u))
		msg_warn("PidFile %s: user %s cannot write its directory %s, so "
		    "the file is emptied at exit instead of removed; put it in "
		    "a directory %s owns (e.g. /run/relayguard)", path, u->name,
		    dir, u->name);
}

void milter_pidfile_write(void)
{
	char buf[32];
	ssize_t w;
	int n;

	if (pidfile.fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pidfile.fd, 0) != 0)
		msg_fatal("cannot write PidFile %s: %s", pidfile.path,
		    strerror(errno));
	w = pwrite(pidfile.fd, buf, (size_t)n, 0);
	if (w < 0)
		msg_fatal("cannot write PidFile %s: %s", pidfile.path,
		    strerror(errno));
	if (w != n)
		msg_fatal("cannot write PidFile %s: short write (%zd of %d "
		    "bytes; file system full?)", pidfile.path, w, n);
	/* the pid must be on disk before the parent of the detach exits:
	 * whoever reads it next (systemd, a second instance) sees it */
	if (fsync(pidfile.fd) != 0 && errno != EINVAL)
		msg_fatal("cannot write PidFile %s: %s", pidfile.path,
		    strerror(errno));
}

void milter_pidfile_remove(void)
{
	struct stat st;

	if (pidfile.fd < 0)
		return;
	/* only our own file: never one that replaced it since */
	if (lstat(pidfile.path, &st) == 0 && st.st_dev == pidfile.dev &&
	    st.st_ino == pidfile.ino && unlink(pidfile.path) != 0) {
		if (ftruncate(pidfile.fd, 0) != 0)
			msg_warn("cannot remove or empty PidFile %s: %s",
			    pidfile.path, strerror(errno));
	}
	close(pidfile.fd);	/* releases the lock */
	pidfile.fd = -1;
	free(pidfile.path);
	pidfile.path = NULL;
}

void milter_drop_privileges(const struct milter_user *u)
{
	if (!u->set)
		return;
	if (getuid() == u->uid && geteuid() == u->uid && getgid() == u->gid)
		return;
	if (setgroups(1, &u->gid) != 0)
		msg_fatal("setgroups(%ld): %s", (long)u->gid, strerror(errno));
	if (setresgid(u->gid, u->gid, u->gid) != 0)
		msg_fatal("setresgid(%ld): %s", (long)u->gid, strerror(errno));
	if (setresuid(u->uid, u->uid, u->uid) != 0)
		msg_fatal("setresuid(%ld): %s", (long)u->uid, strerror(errno));
	if (setuid(0) == 0 && u->uid != 0)
		msg_fatal("privileges not dropped: setuid(0) still works");
	msg_info("running as user %s (uid %ld, gid %ld)", u->name, (long)u->uid,
	    (long)u->gid);
}
