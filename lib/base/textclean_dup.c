/*
 * textclean_dup.c - rg_clean() into a malloc'ed string; see textclean.h.
 *
 * Apart from textclean.c, which allocates nothing, so that log.c can clean
 * every line without a circle through util.c's xmalloc() and its fatal
 * message.
 */
#include "lib/base/textclean.h"
#include "lib/base/util.h"

#include <string.h>

char *rg_clean_dup(enum rg_sink sink, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	size_t cap = n < RG_CLEAN_DUP_MAX / 10 ? n * 10 + 1 : RG_CLEAN_DUP_MAX + 1;
	char *dst = xmalloc(cap);

	rg_clean(sink, dst, cap, src, n);
	return dst;
}
