/* infile.c - open an input file without blocking on a FIFO; see infile.h. */
#include "relayguard/infile.h"
#include "relayguard/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *rg_infile_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd, flags, e;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		rg_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		rg_set_err(err, errlen, "%s: %s", path, strerror(e));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		rg_set_err(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
	    (f = fdopen(fd, "r")) == NULL) {
		e = errno;
		close(fd);
		rg_set_err(err, errlen, "%s: %s", path, strerror(e));
		return NULL;
	}
	return f;
}
