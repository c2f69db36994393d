/* filetrust.c - StrictModes checks for config files; see filetrust.h. */
#include "lib/base/filetrust.h"
#include "lib/base/util.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
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

/*
 * POSIX ACLs (acl(5)): "ls -l" shows the mask as the group bits, so a
 * named entry "u:nobody:rw" hides behind -rw-rw-r-- root root. The access
 * ACL is read raw from the system.posix_acl_access xattr (the kernel's
 * format: a version 2 header, then {le16 tag, le16 perm, le32 id}
 * entries), no library needed. A named user or group entry whose
 * effective permissions (entry & mask) include write is refused unless it
 * names root or the starting user/group. 0 or -1 with err.
 */
#define ACL_XATTR	"system.posix_acl_access"
#define ACL_TAG_USER	0x02
#define ACL_TAG_GROUP	0x08
#define ACL_TAG_MASK	0x10
#define ACL_PERM_WRITE	0x02

static unsigned le16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static unsigned long le32(const unsigned char *p)
{
	return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	    (unsigned long)p[3] << 24;
}

static int check_acl(const char *path, const char *what, const char *name,
    char *err, size_t errlen)
{
	unsigned char buf[4096];
	ssize_t n = lgetxattr(name, ACL_XATTR, buf, sizeof(buf));
	unsigned mask = 0x07;
	char whose[4200];

	if (what[0] == '\0')
		strlcpy_rg(whose, "its ACL", sizeof(whose));
	else
		snprintf(whose, sizeof(whose), "the ACL of %s%s", what, name);

	if (n < 0)
		return 0;	/* no ACL (ENODATA), or none supported */
	if (n < 4 || le32(buf) != 2 || (n - 4) % 8 != 0)
		return rg_set_err(err, errlen, "%s: refused: %s cannot be read",
		    path, whose);
	for (ssize_t o = 4; o < n; o += 8)
		if (le16(buf + o) == ACL_TAG_MASK)
			mask = le16(buf + o + 2);
	for (ssize_t o = 4; o < n; o += 8) {
		unsigned tag = le16(buf + o), perm = le16(buf + o + 2) & mask;
		unsigned long id = le32(buf + o + 4);

		if (!(perm & ACL_PERM_WRITE))
			continue;
		if (tag == ACL_TAG_USER && !owner_ok((uid_t)id))
			return rg_set_err(err, errlen, "%s: refused: %s lets "
			    "user %lu write; setfacl -x u:%lu", path, whose, id,
			    id);
		if (tag == ACL_TAG_GROUP && id != 0 &&
		    !(trust.uid != 0 && id == trust.gid))
			return rg_set_err(err, errlen, "%s: refused: %s lets "
			    "group %lu write; setfacl -x g:%lu", path, whose, id,
			    id);
	}
	return 0;
}

/* One directory on the way to the file. */
static int check_one_dir(const char *path, const char *dir, char *err,
    size_t errlen)
{
	char who[300];
	struct stat st;

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
	if (!(st.st_mode & S_ISVTX))
		return check_acl(path, "its directory ", dir, err, errlen);
	return 0;
}

/* Every directory from the file's own up to / (sshd's secure_path): whoever
 * may replace any of them may replace the file. */
static int check_dir(const char *path, char *err, size_t errlen)
{
	char dir[4096], *slash;

	if (path[0] == '/')
		strlcpy_rg(dir, path, sizeof(dir));
	else {
		char cwd[2048];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return rg_set_err(err, errlen, "%s: getcwd: %s", path,
			    strerror(errno));
		snprintf(dir, sizeof(dir), "%s/%s", cwd, path);
	}
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir) {
			dir[1] = '\0';
			return check_one_dir(path, dir, err, errlen);
		}
		*slash = '\0';
		if (check_one_dir(path, dir, err, errlen) != 0)
			return -1;
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
	if (check_acl(path, "", path, err, errlen) != 0)
		return -1;
	return check_dir(path, err, errlen);
}
