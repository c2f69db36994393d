/* test_regfile.c - a regular file or nothing (regfile.h): what stands at the
 * path, what rg_regfile_open and rg_regfile_check say about it, and that
 * nothing behind a link is touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/base/regfile.h"
#include "lib/base/util.h"
#include "scratchdir.h"


static int setup(void **state)
{
	(void)state;
	return scratch_make("regfile");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

enum thing { NOTHING, REGULAR, SYMLINK, FIFO, DIRECTORY, SOCKET };

/* Put a thing at path (a symlink points at scratch_dir/target, a regular file). */
static void plant(enum thing t, const char *path)
{
	char *target = xasprintf("%s/target", scratch_dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && write(fd, "precious\n", 9) == 9);
	close(fd);
	switch (t) {
	case NOTHING:
		break;
	case REGULAR:
		assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
		break;
	case SYMLINK:
		assert_int_equal(symlink(target, path), 0);
		break;
	case FIFO:
		assert_int_equal(mkfifo(path, 0600), 0);
		break;
	case DIRECTORY:
		assert_int_equal(mkdir(path, 0700), 0);
		break;
	case SOCKET:
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
		break;
	}
	free(target);
}

static const struct {
	const char *name;
	enum thing thing;
	const char *want;	/* NULL: accepted; else in the message */
} cases[] = {
	{"nothing (created)", NOTHING, NULL},
	{"a regular file", REGULAR, NULL},
	{"a symlink", SYMLINK, "EventLog %s is a symbolic link: refusing to follow it"},
	{"a FIFO", FIFO, "EventLog %s: not a regular file (a FIFO)"},
	{"a directory", DIRECTORY, "EventLog %s: not a regular file (a directory)"},
	{"a socket", SOCKET, "EventLog %s: not a regular file (a socket)"},
};

static void test_open_and_check(void **state)
{
	char err[512], *want, *path, *target = xasprintf("%s/target", scratch_dir);
	char buf[32] = "";
	struct stat st;
	int fd, n;

	(void)state;
	for (size_t i = 0; i < RG_NELEM(cases); i++) {
		path = xasprintf("%s/p%zu", scratch_dir, i);
		plant(cases[i].thing, path);
		want = cases[i].want ? xasprintf(cases[i].want, path) : NULL;
		err[0] = '\0';
		print_message("%s\n", cases[i].name);
		/* -t's check opens nothing: a missing file stays missing */
		assert_int_equal(rg_regfile_check("EventLog", path, err,
		    sizeof(err)), want ? -1 : 0);
		if (want)
			assert_string_equal(err, want);
		fd = rg_regfile_open("EventLog", path, O_WRONLY | O_APPEND |
		    O_CREAT, 0640, &st, err, sizeof(err));
		if (want == NULL) {
			assert_true(fd >= 0);
			assert_true(S_ISREG(st.st_mode));
			/* blocking again once it is known to be a file */
			assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
			close(fd);
		} else {
			assert_int_equal(fd, -1);
			assert_string_equal(err, want);
		}
		/* whatever stood there, the link target is untouched */
		fd = open(target, O_RDONLY);
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		assert_string_equal(buf, "precious\n");
		free(want);
		free(path);
	}
	free(target);
}

/* A FIFO with a reader would open at once: it is refused all the same,
 * and without one the open does not wait for a reader. */
static void test_fifo_with_reader(void **state)
{
	char err[512], *path = xasprintf("%s/fifo", scratch_dir);
	struct stat st;
	int rd;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	rd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(rg_regfile_open("PidFile", path, O_RDWR | O_CREAT,
	    0600, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file (a FIFO)"));
	close(rd);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_with_reader, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
