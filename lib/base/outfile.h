/*
 * outfile.h - output that is complete or absent.
 *
 * rg_outfile_open() creates a temporary file ".NAME.XXXXXX" in the directory
 * of PATH (O_EXCL, never through a symlink) and gives a stdio stream on it;
 * rg_outfile_commit() flushes, checks every error the stream saw, syncs,
 * closes and renames it to PATH. rename(2) replaces a symlink or file at
 * PATH instead of writing through it, so a planted link cannot redirect the
 * output. On any failure the temporary file is removed and nothing is left
 * under the final name: a reader finds the whole file or none. What rename
 * would destroy is refused instead: a device, FIFO, socket or directory at
 * PATH, or a link to one (/dev/null, /dev/stdout: use standard output).
 *
 * The directory must belong to the invoking user (effective uid) or root:
 * a directory of another user could swap the file under us between the
 * write and a later read. rg_outfile_dir_ok() applies that rule alone
 * (for a tool that creates several files in one directory).
 *
 * rg_close_stdout() is gnulib's close_stdout for our programs: it flushes
 * and closes standard output and reports a failure ("write error on
 * standard output: No space left on device") through msg_error. Every
 * program calls it last and exits non-zero when it fails: ">/dev/full"
 * or a full disk never ends in exit 0 with a truncated document.
 *
 * All return 0 on success, -1 with "PATH: why" in err (or logged, for
 * rg_close_stdout) on failure.
 */
#ifndef RELAYGUARD_OUTFILE_H
#define RELAYGUARD_OUTFILE_H

#include <stdio.h>
#include <sys/types.h>

struct rg_outfile {
	FILE *fp;		/* write here */
	char *path;		/* the final name */
	char *tmp;		/* the temporary name beside it */
};

int rg_outfile_dir_ok(const char *dir, char *err, size_t errlen);
int rg_outfile_open(struct rg_outfile *of, const char *path, mode_t mode,
    char *err, size_t errlen);
int rg_outfile_commit(struct rg_outfile *of, char *err, size_t errlen);
void rg_outfile_abort(struct rg_outfile *of);
int rg_close_stdout(void);

#endif
