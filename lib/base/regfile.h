/*
 * regfile.h - open a file that a daemon running as root writes in place
 * (the EventLog, the PidFile): a regular file or nothing.
 *
 * rg_regfile_open() opens with O_NOFOLLOW (a symbolic link planted at the
 * path is refused, its target untouched) and O_NONBLOCK (a FIFO at the
 * path cannot hang the open: with no reader it fails, with one it opens
 * and is refused), checks with fstat(2) that it holds a regular file, and
 * only then clears O_NONBLOCK. rg_regfile_check() applies the same rules
 * with lstat(2) and opens nothing (relayguard-milter -t): a missing file is
 * fine, it is created at start.
 *
 * Messages name the setting and the path:
 *	"EventLog /var/log/x: not a regular file (a FIFO)"
 *	"PidFile /run/x is a symbolic link: refusing to follow it"
 * Both return the descriptor (open) or 0 (check), -1 with err on failure.
 *
 * rg_infile_open() opens an input named on a command line for reading the
 * same way, but follows links (an input is the user's choice): a FIFO or
 * device where a file is expected cannot hang it, and anything but a
 * regular file is refused. A stdio stream, or NULL with "PATH: why".
 */
#ifndef RELAYGUARD_REGFILE_H
#define RELAYGUARD_REGFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

int rg_regfile_open(const char *what, const char *path, int flags,
    mode_t mode, struct stat *st, char *err, size_t errlen);
FILE *rg_infile_open(const char *path, char *err, size_t errlen);
int rg_regfile_check(const char *what, const char *path, char *err,
    size_t errlen);

#endif
