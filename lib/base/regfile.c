/* regfile.c - a regular file or nothing, never through a link; see regfile.h. */
#include "lib/base/regfile.h"
#include "lib/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "a FIFO", ... for what stands at a path instead of a regular file. */
static const char *kind_of(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a file";
}

/* The message for what lstat finds at path: 0 when that is a regular
 * file (or nothing), -1 with err otherwise. */
static int refuse_what_is_there(const char *what, const char *path,
    char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return 0;
	if (S_ISLNK(st.st_mode))
		return rg_set_err(err, errlen, "%s %s is a symbolic link: "
		    "refusing to follow it", what, path);
	if (!S_ISREG(st.st_mode))
		return rg_set_err(err, errlen, "%s %s: not a regular file (%s)",
		    what, path, kind_of(st.st_mode));
	return 0;
}

int rg_regfile_check(const char *what, const char *path, char *err,
    size_t errlen)
{
	return refuse_what_is_there(what, path, err, errlen);
}

/* fd, open on path: kept when it holds a regular file, blocking again from
 * here on; else closed, -1 with err. */
static int keep_regular(int fd, const char *name, struct stat *st, char *err,
    size_t errlen)
{
	int e, fl;

	if (fstat(fd, st) != 0) {
		e = errno;
		close(fd);
		return rg_set_err(err, errlen, "%s: %s", name, strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return rg_set_err(err, errlen, "%s: not a regular file (%s)", name,
		    kind_of(st->st_mode));
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		e = errno;
		close(fd);
		return rg_set_err(err, errlen, "%s: %s", name, strerror(e));
	}
	return fd;
}

int rg_regfile_open(const char *what, const char *path, int flags,
    mode_t mode, struct stat *st, char *err, size_t errlen)
{
	char name[600];
	int fd, e;

	fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	if (fd < 0) {
		e = errno;
		/* ELOOP (a link), ENXIO (a FIFO without a reader, a socket),
		 * EISDIR: say what stands there rather than errno's words */
		if (refuse_what_is_there(what, path, err, errlen) != 0)
			return -1;
		return rg_set_err(err, errlen, "cannot open %s %s: %s", what,
		    path, strerror(e));
	}
	snprintf(name, sizeof(name), "%s %s", what, path);
	return keep_regular(fd, name, st, err, errlen);
}

FILE *rg_infile_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd, e;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		rg_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if ((fd = keep_regular(fd, path, &st, err, errlen)) < 0)
		return NULL;
	if ((f = fdopen(fd, "r")) == NULL) {
		e = errno;
		close(fd);
		rg_set_err(err, errlen, "%s: %s", path, strerror(e));
	}
	return f;
}
