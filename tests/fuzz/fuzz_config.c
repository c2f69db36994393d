/*
 * fuzz_config.c - libFuzzer target for the config parser (config.h): an
 * admin's typo, a half-written file or a hostile include must give a
 * clear "file:line: what" error, never a crash or a hang.
 *
 * The input is parsed as a config text with rg_config_parse_string().
 * A failure must leave a message that starts with the file's name (or the
 * name of a list file it includes). When the first byte is odd the same
 * bytes are also written to a temporary file and read with
 * rg_config_load(): both paths must agree on success. Inputs that name a
 * "file:" list are skipped (they would read arbitrary files, /dev/stdin
 * included, and the list-file reader has its own target, fuzz_netmatch).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milter/policy/config.h"
#include "fuzz.h"

static char tmp_path[64];

static void remove_tmp(void)
{
	unlink(tmp_path);
}

static struct rg_config *load_file(const uint8_t *data, size_t size, char *err,
    size_t errlen)
{
	FILE *fp;

	if (tmp_path[0] == '\0') {
		int fd;

		snprintf(tmp_path, sizeof(tmp_path), "/tmp/rg-fuzz-conf.XXXXXX");
		if ((fd = mkstemp(tmp_path)) < 0)
			abort();
		close(fd);
		atexit(remove_tmp);
	}
	if ((fp = fopen(tmp_path, "w")) == NULL)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	return rg_config_load(tmp_path, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024], err2[1024];
	struct rg_config *c, *c2;
	char *text;

	if (memmem(data, size, "file:", 5) != NULL)
		return 0;
	if ((text = fuzz_strndup(data, size)) == NULL)
		return 0;
	err[0] = '\0';
	c = rg_config_parse_string(text, "fuzz.conf", err, sizeof(err));
	if (c == NULL && (memchr(err, '\0', sizeof(err)) == NULL ||
	    strncmp(err, "fuzz.conf:", 10) != 0))
		abort();
	/* a NUL in the text ends it for the string parser; the file reader
	 * must not crash on one either, but may say more */
	if (size > 0 && (data[0] & 1) && memchr(data, '\0', size) == NULL) {
		err2[0] = '\0';
		c2 = load_file(data, size, err2, sizeof(err2));
		if ((c == NULL) != (c2 == NULL))
			abort();
		if (c2 == NULL && strncmp(err2, tmp_path, strlen(tmp_path)) != 0)
			abort();
		if (c2 != NULL)
			rg_config_unref(c2);
	}
	if (c != NULL)
		rg_config_unref(c);
	free(text);
	return 0;
}
