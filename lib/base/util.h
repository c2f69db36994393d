/*
 * util.h - memory and string helpers that never return NULL.
 *
 * xmalloc(), xcalloc(), xrealloc(), xstrdup() and xasprintf() either succeed or
 * log "out of memory" and exit(75) (EX_TEMPFAIL), as Postfix's mymalloc() does,
 * so callers carry no NULL-check noise.
 *
 * strlcpy_rg() copies with truncation and returns the source length
 * (truncated when the result >= size). rg_random_token() fills buf with
 * lowercase letters and digits drawn from getrandom(2).
 */
#ifndef RELAYGUARD_UTIL_H
#define RELAYGUARD_UTIL_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

size_t strlcpy_rg(char *dst, const char *src, size_t size);
void rg_random_token(char *buf, size_t len);	/* writes len chars + NUL */
void rg_lowercase(char *s);

/* Format a parser's error message into err[errlen]; returns -1 so that
 * "return rg_set_err(err, len, ...)" ends a failing parse in one line. */
int rg_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define RG_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
