/*
 * infile.h - open an input file named on the command line.
 *
 * rg_infile_open() opens PATH for reading without blocking in open(2):
 * O_NONBLOCK, so a FIFO (or a device) put where a file is expected cannot
 * hang the program before a writer appears; then fstat on the open file
 * (what is checked is what is read), refusal of anything but a regular
 * file, and O_NONBLOCK cleared again for ordinary reads.
 *
 * Returns a stdio stream, or NULL with "PATH: why" in err.
 */
#ifndef RELAYGUARD_INFILE_H
#define RELAYGUARD_INFILE_H

#include <stddef.h>
#include <stdio.h>

FILE *rg_infile_open(const char *path, char *err, size_t errlen);

#endif
