/* filetrust.c - StrictModes checks for config files; see filetrust.h. */
#include "relayguard/filetrust.h"
#include "relayguard/util.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Written once at start, before any thread exists; read-only afterwards. */
static struct {
	bool on;
	uid_t uid;
	gid_t gid;
} trust;

void rg_file_trust_enable(void)
{
	trust.uid = geteuid();
	trust.gid = getegid();
	trust.on = true;
}

bool rg_file_trust_enabled(void)
{
	return trust.on;
}

/* "nobody (uid 65534)" */
static void owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *pwp = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &pwp) == 0 && pwp != NULL)
		snprintf(buf, len, "%s (uid %ld)", pwp->pw_name, (long)uid);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
}

static bool owner_ok(uid_t uid)
{
	return uid == 0 || uid == trust.uid;
}

static int check_dir(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[4096], who[300];
	struct stat st;

	if (slash == NULL)
		strlcpy_rg(dir, ".", sizeof(dir));
	else if (slash == path)
		strlcpy_rg(dir, "/", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) != 0)
		return rg_set_err(err, errlen, "%s: directory %s: %s", path, dir,
		    strerror(errno));
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		return rg_set_err(err, errlen, "%s: refused: its directory %s is "
		    "writable by anybody (mode %04o)", path, dir,
		    (unsigned)(st.st_mode & 07777));
	if (!owner_ok(st.st_uid)) {
		owner_name(st.st_uid, who, sizeof(who));
		return rg_set_err(err, errlen, "%s: refused: its directory %s "
		    "belongs to %s, not to root or the user that started the "
		    "milter", path, dir, who);
	}
	return 0;
}

int rg_file_trusted(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char who[300];

	if (!trust.on)
		return 0;
	if (fstat(fd, &st) != 0)
		return rg_set_err(err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return rg_set_err(err, errlen, "%s: refused: not a regular file",
		    path);
	if (st.st_mode & S_IWOTH)
		return rg_set_err(err, errlen, "%s: refused: writable by anybody "
		    "(mode %04o); chmod o-w", path, (unsigned)(st.st_mode & 07777));
	if ((st.st_mode & S_IWGRP) && st.st_gid != 0 &&
	    !(trust.uid != 0 && st.st_gid == trust.gid))
		return rg_set_err(err, errlen, "%s: refused: writable by group "
		    "%ld (mode %04o); chmod g-w", path, (long)st.st_gid,
		    (unsigned)(st.st_mode & 07777));
	if (!owner_ok(st.st_uid)) {
		owner_name(st.st_uid, who, sizeof(who));
		return rg_set_err(err, errlen, "%s: refused: it belongs to %s, not "
		    "to root or the user that started the milter (a daemon that "
		    "may rewrite its own policy is not bound by it)", path, who);
	}
	return check_dir(path, err, errlen);
}
