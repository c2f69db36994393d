/*
 * scratchdir.h - a scratch directory for the unit tests that make files:
 * scratch_dir holds its path between scratch_make() and scratch_remove(),
 * which removes the tree (nftw, depth first, links not followed).
 */
#ifndef RELAYGUARD_TEST_SCRATCHDIR_H
#define RELAYGUARD_TEST_SCRATCHDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch_dir[64];

static int scratch_make(const char *name)
{
	snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/rg-%s.XXXXXX", name);
	return mkdtemp(scratch_dir) == NULL ? -1 : 0;
}

static int scratch_unlink(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int scratch_remove(void)
{
	return nftw(scratch_dir, scratch_unlink, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
