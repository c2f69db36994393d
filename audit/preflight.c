/*
 * preflight.c - what relayguard-audit knows before the first connection:
 * whether -s names one of this machine's addresses (a usage error up
 * front, not every target "unreachable"), and how many targets the lists
 * hold (the progress line's total, when they can be counted).
 */
#include "audit.h"
#include "lib/base/log.h"
#include "lib/base/regfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* -s: an address of this machine, known before any target is contacted
 * (a typo would otherwise make every target "unreachable"). */
void audit_check_source(const char *src)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	msg_fatal_status = audit_usage_status();
	if (inet_pton(AF_INET, src, &v4->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, src, &v6->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		len = sizeof(*v6);
	} else {
		msg_fatal("-s %s: not an IP address (-s takes one of this machine's "
		    "addresses)", src);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		msg_fatal("-s %s: socket: %s", src, strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		msg_fatal("-s %s: not an address of this machine (%s)", src, strerror(errno));
	close(fd);
	msg_fatal_status = 3;
}

/* Targets in the lists, when they can be counted up front (for the ETA). */
bool audit_count_targets(const struct audit_opts *o, char **args, int nargs, size_t *n)
{
	*n = 0;
	if (o->mx || o->shard_n || o->resume || o->exclude)
		return false;
	for (int i = 0; i < nargs; i++) {
		if (strcmp(args[i], "-") == 0 || strchr(args[i], '/') != NULL)
			return false;	/* stdin, or a network: counted as it comes */
		(*n)++;
	}
	for (size_t i = 0; i < o->ninput_files; i++) {
		char why[600];
		FILE *f;
		char *line = NULL;
		size_t cap = 0;
		struct stat st;

		if (strcmp(o->input_files[i], "-") == 0 || stat(o->input_files[i], &st) != 0 ||
		    !S_ISREG(st.st_mode) ||
		    (f = rg_infile_open(o->input_files[i], why, sizeof(why))) == NULL)
			return false;	/* a pipe or FIFO is read once, uncounted */
		while (getline(&line, &cap, f) > 0) {
			const char *c = line + strspn(line, " \t\r\n");

			*n += *c != '\0' && *c != '#';
		}
		free(line);
		fclose(f);
	}
	return true;
}
