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

#include "relayguard/log.h"
#include "relayguard/util.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int milter_user_lookup(const char *spec, struct milter_user *u, char *err,
    size_t errlen)
{
	char buf[256], *group;
	struct passwd *pw;
	struct group *gr;

	memset(u, 0, sizeof(*u));
	if (spec == NULL)
		return 0;
	if (strlcpy_rg(buf, spec, sizeof(buf)) >= sizeof(buf))
		return rg_set_err(err, errlen, "UserID: '%s' is too long", spec);
	if ((group = strchr(buf, ':')) != NULL)
		*group++ = '\0';
	if ((pw = getpwnam(buf)) == NULL)
		return rg_set_err(err, errlen, "UserID: unknown user '%s'", buf);
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

void milter_socket_dir_prepare(const char *spec, const struct milter_user *u)
{
	const char *path = milter_socket_path(spec), *slash;
	char dir[4096];
	struct stat st;

	if (path == NULL || (slash = strrchr(path, '/')) == NULL)
		return;
	if (slash == path)
		strlcpy_rg(dir, "/", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT)
			msg_fatal("socket directory %s: %s", dir, strerror(errno));
		if (mkdir(dir, 0750) != 0)
			msg_fatal("cannot create the socket directory %s: %s", dir,
			    strerror(errno));
		if (u->set && geteuid() == 0 && lchown(dir, u->uid, u->gid) != 0)
			msg_fatal("cannot give the socket directory %s to %s: %s",
			    dir, u->name, strerror(errno));
		msg_info("created the socket directory %s (mode 0750%s%s)", dir,
		    u->set ? ", owner " : "", u->set ? u->name : "");
		return;
	}
	if (!S_ISDIR(st.st_mode))
		msg_fatal("socket directory %s is not a directory", dir);
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		msg_fatal("socket directory %s is writable by anybody (mode %04o) "
		    "without the sticky bit: anybody could replace the socket",
		    dir, (unsigned)(st.st_mode & 07777));
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
