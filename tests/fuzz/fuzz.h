/*
 * fuzz.h - helpers shared by the libFuzzer targets: split the input into
 * C strings without losing what follows a NUL.
 */
#ifndef RELAYGUARD_FUZZ_H
#define RELAYGUARD_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated copy of data[0..size) (caller frees), or NULL. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/*
 * Call fn on each piece of data separated by sep; a NUL inside a piece
 * also ends a piece, so bytes after a NUL are still read (as the next
 * piece) instead of being silently dropped.
 */
static inline void fuzz_pieces(const uint8_t *data, size_t size, int sep,
    void (*fn)(const char *piece, size_t len, void *ctx), void *ctx)
{
	char *copy = fuzz_strndup(data, size);
	size_t start = 0;

	if (copy == NULL)
		return;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || copy[i] == sep || copy[i] == '\0') {
			copy[i] = '\0';
			fn(copy + start, i - start, ctx);
			start = i + 1;
		}
	}
	free(copy);
}

/* Strict UTF-8 length at s, 0 if invalid: the oracles' own decoder,
 * independent of textclean.c. */
static inline size_t fuzz_utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (len == 0 || s[0] > 0xf4 || n < len)
		return 0;
	*cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && *cp < 0x80) || (len == 3 && *cp < 0x800) ||
	    (len == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

#endif
