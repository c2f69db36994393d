/* regfile.c - a regular file or nothing, never through a link; see regfile.h. */
#include "relayguard/regfile.h"
#include "relayguard/util.h"

#include <errno.h>
#include <fcntl.h>
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

int rg_regfile_open(const char *what, const char *path, int flags,
    mode_t mode, struct stat *st, char *err, size_t errlen)
{
	int fd, e, fl;

	fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	if (fd < 0) {
		e = errno;
		/* ELOOP (a link), ENXIO (a FIFO without a reader, a socket),
		 * EISDIR: say what stands there rather than errno's words */
		if (refuse_what_is_there(what, path, err, errlen) != 0)
			return -1;
		return rg_set_err(err, errlen, "cannot open %s %s: %s", what,
		    path, strerror(e));
	}
	if (fstat(fd, st) != 0) {
		e = errno;
		close(fd);
		return rg_set_err(err, errlen, "%s %s: %s", what, path,
		    strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return rg_set_err(err, errlen, "%s %s: not a regular file (%s)",
		    what, path, kind_of(st->st_mode));
	}
	/* a regular file: blocking writes from here on, as any log file */
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		e = errno;
		close(fd);
		return rg_set_err(err, errlen, "%s %s: %s", what, path,
		    strerror(e));
	}
	return fd;
}
