/* outfile.c - output that is complete or absent; see outfile.h. */
#include "lib/base/outfile.h"
#include "lib/base/log.h"
#include "lib/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rg_outfile_dir_ok(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return rg_set_err(err, errlen, "%s: %s", dir, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return rg_set_err(err, errlen, "%s: %s", dir, strerror(e));
	}
	close(fd);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return rg_set_err(err, errlen, "%s: directory belongs to uid %u, "
		    "not to us or root: refusing to write there", dir,
		    (unsigned)st.st_uid);
	return 0;
}

/* rename(2) would replace whatever is at PATH: a device (/dev/full,
 * /dev/null), a FIFO, or a link to one such as /dev/stdout would be
 * destroyed, not written. Only a regular file, a link that leads to one or
 * to nothing (a planted link: replaced, not followed) or nothing may be
 * there. */
static int target_ok(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 :
		    rg_set_err(err, errlen, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
		return 0;
	if (!S_ISREG(st.st_mode))
		return rg_set_err(err, errlen, "%s: not a regular file: refusing "
		    "to replace it (write to standard output for a device or a "
		    "pipe)", path);
	return 0;
}

int rg_outfile_open(struct rg_outfile *of, const char *path, mode_t mode,
    char *err, size_t errlen)
{
	char *copy = xstrdup(path), *copy2 = xstrdup(path);
	const char *dir = dirname(copy), *base = basename(copy2);
	int fd;

	memset(of, 0, sizeof(*of));
	if (*base == '\0' || strcmp(base, "/") == 0 || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		free(copy);
		free(copy2);
		return rg_set_err(err, errlen, "%s: not a file name", path);
	}
	if (rg_outfile_dir_ok(dir, err, errlen) != 0 ||
	    target_ok(path, err, errlen) != 0) {
		free(copy);
		free(copy2);
		return -1;
	}
	of->tmp = xasprintf("%s/.%s.XXXXXX", dir, base);
	free(copy);
	free(copy2);
	/* mkostemp opens with O_CREAT|O_EXCL: never through a planted link */
	if ((fd = mkostemp(of->tmp, O_CLOEXEC)) < 0) {
		rg_set_err(err, errlen, "%s: %s", path, strerror(errno));
		free(of->tmp);
		of->tmp = NULL;
		return -1;
	}
	if (fchmod(fd, mode & ~(mode_t)022 & 0777) != 0 ||
	    (of->fp = fdopen(fd, "w")) == NULL) {
		rg_set_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(of->tmp);
		free(of->tmp);
		of->tmp = NULL;
		return -1;
	}
	of->path = xstrdup(path);
	return 0;
}

static void outfile_free(struct rg_outfile *of)
{
	free(of->tmp);
	free(of->path);
	memset(of, 0, sizeof(*of));
}

int rg_outfile_commit(struct rg_outfile *of, char *err, size_t errlen)
{
	int bad = 0, e = 0;

	if (of->fp == NULL)
		return rg_set_err(err, errlen, "(no output file open)");
	errno = 0;
	if (fflush(of->fp) != 0 || ferror(of->fp)) {
		bad = 1;
		e = errno ? errno : EIO;
	}
	if (!bad && fsync(fileno(of->fp)) != 0 && errno != EINVAL) {
		bad = 1;
		e = errno;
	}
	if (fclose(of->fp) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	of->fp = NULL;
	if (!bad && rename(of->tmp, of->path) != 0) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		rg_set_err(err, errlen, "%s: write error: %s", of->path,
		    strerror(e));
		unlink(of->tmp);
		outfile_free(of);
		return -1;
	}
	outfile_free(of);
	return 0;
}

void rg_outfile_abort(struct rg_outfile *of)
{
	if (of->fp != NULL)
		fclose(of->fp);
	if (of->tmp != NULL)
		unlink(of->tmp);
	outfile_free(of);
}

int rg_close_stdout(void)
{
	int bad = 0, e = 0;

	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		bad = 1;
		e = errno ? errno : EIO;
	}
	/* a closed stdout that nothing was written to is no error (gnulib) */
	if (fclose(stdout) != 0 && !bad && errno != EBADF) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		msg_error("write error on standard output: %s", strerror(e));
		return -1;
	}
	return 0;
}
