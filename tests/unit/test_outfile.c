/* test_outfile.c - output that is complete or absent (outfile.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/base/outfile.h"
#include "lib/base/util.h"
#include "scratchdir.h"


static int setup(void **state)
{
	(void)state;
	return scratch_make("outfile");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

static size_t entries(void)
{
	DIR *d = opendir(scratch_dir);
	struct dirent *e;
	size_t n = 0;

	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_commit_replaces_symlink(void **state)
{
	char *path = xasprintf("%s/out.txt", scratch_dir);
	char *victim = xasprintf("%s/victim", scratch_dir);
	char err[256], buf[64] = "";
	struct rg_outfile of;
	struct stat st;
	FILE *f;

	(void)state;
	f = fopen(victim, "w");
	fputs("keep", f);
	fclose(f);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(rg_outfile_open(&of, path, 0644, err, sizeof(err)), 0);
	fputs("report\n", of.fp);
	assert_int_equal(entries(), 3);		/* victim, link, temporary */
	assert_int_equal(rg_outfile_commit(&of, err, sizeof(err)), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));	/* the link was replaced */
	f = fopen(victim, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep");	/* not written through */
	assert_int_equal(entries(), 2);
	free(path);
	free(victim);
}

static void test_abort_leaves_nothing(void **state)
{
	char *path = xasprintf("%s/gone.txt", scratch_dir);
	char err[256];
	struct rg_outfile of;

	(void)state;
	assert_int_equal(rg_outfile_open(&of, path, 0644, err, sizeof(err)), 0);
	fputs("half", of.fp);
	rg_outfile_abort(&of);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(entries(), 0);
	free(path);
}

static void test_missing_dir(void **state)
{
	char err[256];
	struct rg_outfile of;

	(void)state;
	assert_int_equal(rg_outfile_open(&of, "/nonexistent-dir/x", 0644,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir"));
}

static void test_foreign_dir_refused(void **state)
{
	char *sub = xasprintf("%s/foreign", scratch_dir), *path;
	char err[256];
	struct rg_outfile of;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chown(sub, 65534, 65534), 0);
	path = xasprintf("%s/out.txt", sub);
	assert_int_equal(rg_outfile_open(&of, path, 0644, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not to us or root"));
	free(path);
	free(sub);
}

/* What rename(2) would destroy is refused, and left as it was; a regular
 * file or a link to one or to nothing is replaced. */
static void test_special_targets(void **state)
{
	static const struct {
		const char *name;
		int want;		/* 0 opened, -1 refused */
	} cases[] = {
		{"fifo", -1}, {"subdir", -1}, {"link-to-fifo", -1},
		{"chardev", -1}, {"link-to-chardev", -1},
		{"regular", 0}, {"dangling-link", 0}, {"absent", 0},
	};
	char *p;
	FILE *f;

	(void)state;
	p = xasprintf("%s/fifo", scratch_dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = xasprintf("%s/subdir", scratch_dir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xasprintf("%s/regular", scratch_dir);
	f = fopen(p, "w");
	fclose(f);
	free(p);
	p = xasprintf("%s/link-to-fifo", scratch_dir);
	assert_int_equal(symlink("fifo", p), 0);
	free(p);
	p = xasprintf("%s/dangling-link", scratch_dir);
	assert_int_equal(symlink("nothing-here", p), 0);
	free(p);
	p = xasprintf("%s/link-to-chardev", scratch_dir);
	assert_int_equal(symlink("/dev/null", p), 0);
	free(p);
	p = xasprintf("%s/chardev", scratch_dir);	/* /dev/null's twin, as root */
	if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) != 0)
		assert_int_equal(symlink("/dev/null", p), 0);
	free(p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct rg_outfile of;
		struct stat before, after;
		int had;

		p = xasprintf("%s/%s", scratch_dir, cases[i].name);
		had = lstat(p, &before) == 0;
		assert_int_equal(rg_outfile_open(&of, p, 0644, err, sizeof(err)),
		    cases[i].want);
		if (cases[i].want == 0) {
			fputs("x\n", of.fp);
			assert_int_equal(rg_outfile_commit(&of, err, sizeof(err)), 0);
			assert_int_equal(lstat(p, &after), 0);
			assert_true(S_ISREG(after.st_mode));
		} else {
			assert_non_null(strstr(err, "not a regular file"));
			assert_true(had);
			assert_int_equal(lstat(p, &after), 0);
			assert_int_equal(after.st_ino, before.st_ino);
			assert_int_equal(after.st_mode, before.st_mode);
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_replaces_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_dir_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_targets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
