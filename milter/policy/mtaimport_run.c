/*
 * mtaimport_run.c - run postconf and postmap for the Postfix importer
 * (mtaimport_postfix.c) and collect what they print.
 */
#include "mtaimport.h"
#include "lib/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- running postconf / postmap ------------------------------------------ */

static void buf_put(struct rg_import_buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Run argv (no shell), collect stdout and stderr (at most 4 MB each).
 * Returns the exit status, or -1 with out->s holding why. */
int rg_import_run_capture(char *const argv[], struct rg_import_buf *out,
    struct rg_import_buf *errb)
{
	int po[2], pe[2], st;
	pid_t pid;
	char chunk[4096];
	struct pollfd pf[2];

	buf_put(out, "", 0);
	buf_put(errb, "", 0);
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		buf_put(errb, "pipe failed", 11);
		return -1;
	}
	if ((pid = fork()) < 0) {
		buf_put(errb, "fork failed", 11);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul >= 0)
			dup2(nul, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	pf[0] = (struct pollfd){.fd = po[0], .events = POLLIN};
	pf[1] = (struct pollfd){.fd = pe[0], .events = POLLIN};
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, 30000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			r = read(pf[i].fd, chunk, sizeof(chunk));
			if (r <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
			} else if ((i ? errb : out)->n < (4u << 20)) {
				buf_put(i ? errb : out, chunk, (size_t)r);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* First line of b, for messages. */
const char *rg_import_first_line(struct rg_import_buf *b)
{
	char *nl;

	if (b->s == NULL)
		return "";
	if ((nl = strchr(b->s, '\n')) != NULL)
		*nl = '\0';
	return b->s;
}

