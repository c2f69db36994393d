/*
 * fuzz_spf.c - libFuzzer target for the SPF record filter
 * (rg_spf_text_safe, spf.h): the check that keeps hostile TXT records
 * (CVE-2023-42118, macro parsing) away from libspf2.
 *
 * Differential oracle: the input, cut at NUL and '\n', is judged by
 * rg_spf_text_safe() and by the rule written out again here from RFC 7208
 * 7.1 and spf.h - printable US-ASCII only, at most 2048 bytes, every '%'
 * followed by '%', '_', '-' or a macro "{" letter [digits] ["r"]
 * [delimiters] "}" with a known letter (s l o d i p h c r t v, either
 * case), at most 3 digits of value 1-128, at most 7 delimiters from
 * ".-+,/_=". The two must agree on every input.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mail/spf.h"
#include "fuzz.h"

static bool oracle(const char *s, size_t len)
{
	size_t i = 0;

	if (len > 2048)
		return false;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t j, k;
		int value = 0;

		if (c < 0x20 || c >= 0x7f)
			return false;
		if (c != '%') {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-') {
			i += 2;
			continue;
		}
		if (s[i + 1] != '{' || i + 2 >= len ||
		    strchr("slodiphcrtv", tolower((unsigned char)s[i + 2])) == NULL ||
		    s[i + 2] == '\0')
			return false;
		j = i + 3;
		for (k = j; k < len && isdigit((unsigned char)s[k]); k++)
			if (k - j < 4)
				value = value * 10 + (s[k] - '0');
		if (k - j > 3 || (k > j && (value < 1 || value > 128)))
			return false;
		j = k;
		if (j < len && tolower((unsigned char)s[j]) == 'r')
			j++;
		for (k = j; k < len && s[k] != '\0' && strchr(".-+,/_=", s[k]); k++)
			;
		if (k - j > 7 || k >= len || s[k] != '}')
			return false;
		i = k + 1;
	}
	return true;
}

static void one(const char *txt, size_t len, void *ctx)
{
	(void)ctx;
	if (rg_spf_text_safe(txt) != oracle(txt, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_pieces(data, size, '\n', one, NULL);
	return 0;
}
