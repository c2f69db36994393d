/* test_infile.c - input files: a regular file is read, a FIFO, a device, a
 * directory or a missing name is refused at once (regfile.h: rg_infile_open). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/regfile.h"
#include "lib/base/util.h"
#include "scratchdir.h"


static int setup(void **state)
{
	char *p;
	FILE *f;

	(void)state;
	if (scratch_make("infile") != 0)
		return -1;
	p = xasprintf("%s/file", scratch_dir);
	f = fopen(p, "w");
	fputs("line one\n", f);
	fclose(f);
	free(p);
	p = xasprintf("%s/fifo", scratch_dir);
	if (mkfifo(p, 0600) != 0)
		return -1;
	free(p);
	p = xasprintf("%s/link", scratch_dir);
	if (symlink("file", p) != 0)
		return -1;
	free(p);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

static void test_table(void **state)
{
	static const struct {
		const char *name;	/* under scratch_dir, or absolute */
		const char *want_err;	/* NULL: opened and read */
	} cases[] = {
		{"file", NULL},
		{"link", NULL},			/* a link to a file is read */
		{"fifo", "not a regular file"},	/* without a writer: no hang */
		{".", "not a regular file"},
		{"/dev/null", "not a regular file"},
		{"missing", "cannot open"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = cases[i].name[0] == '/' ? xstrdup(cases[i].name) :
		    xasprintf("%s/%s", scratch_dir, cases[i].name);
		char err[256] = "", line[64] = "";
		time_t t0 = time(NULL);
		FILE *f = rg_infile_open(p, err, sizeof(err));

		assert_true(time(NULL) - t0 < 5);
		if (cases[i].want_err == NULL) {
			assert_non_null(f);
			assert_non_null(fgets(line, sizeof(line), f));
			assert_string_equal(line, "line one\n");
			fclose(f);
		} else {
			assert_null(f);
			assert_non_null(strstr(err, cases[i].want_err));
			assert_non_null(strstr(err, p));
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
