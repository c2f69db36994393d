/* i18n.c - language choice and gettext set-up; see i18n.h. */
#include "lib/base/i18n.h"
#include "lib/base/util.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RG_LOCALEDIR
#define RG_LOCALEDIR "/usr/local/share/locale"
#endif

static char current_lang[8] = "en";

const char *rg_i18n_lang(void)
{
	return current_lang;
}

/* "ja_JP.UTF-8" -> "ja"; "C", "POSIX", "" -> "en". */
static void lang_of(const char *v, char *out, size_t len)
{
	size_t n = 0;

	while (v[n] && v[n] != '_' && v[n] != '.' && v[n] != ':' && v[n] != '@')
		n++;
	if (n == 0 || strncasecmp(v, "C", n) == 0 || strncasecmp(v, "POSIX", n) == 0)
		v = "en", n = 2;
	snprintf(out, len, "%.*s", (int)n, v);
}

/* The first variable that names a language; NULL: none does. */
static const char *env_lang(void)
{
	static const char *const vars[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
	char l[16];

	for (size_t i = 0; i < RG_NELEM(vars); i++) {
		const char *v = getenv(vars[i]);

		if (v == NULL || *v == '\0')
			continue;
		lang_of(v, l, sizeof(l));
		if (strcmp(l, "en") != 0 || strncasecmp(v, "en", 2) == 0)
			return v;
	}
	return NULL;
}

static const char *locale_dir(char *buf, size_t len)
{
	const char *env = getenv("RELAYGUARD_LOCALEDIR");
	char exe[PATH_MAX];
	ssize_t n;
	struct stat st;

	if (env != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			snprintf(buf, len, "%s/locale", exe);
			if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
				return buf;
		}
	}
	return RG_LOCALEDIR;
}

int rg_i18n_init(const char *lang, const char *fallback, char *err, size_t errlen)
{
	char want[16], dir[PATH_MAX + 16];
	const char *from = lang;

	if (from == NULL)
		from = env_lang();
	if (from == NULL)
		from = fallback != NULL && *fallback ? fallback : "en";
	lang_of(from, want, sizeof(want));
	if (strcmp(want, "en") != 0 && strcmp(want, "ja") != 0) {
		if (lang != NULL)
			return rg_set_err(err, errlen, "'%s' is not a supported "
			    "language (en, ja)", lang);
		strlcpy_rg(want, "en", sizeof(want));	/* unknown: English */
	}
	strlcpy_rg(current_lang, want, sizeof(current_lang));
	/* The environment's message locale if it exists, else C.UTF-8:
	 * gettext ignores LANGUAGE only in "C". The codeset is bound to UTF-8,
	 * so LC_CTYPE does not matter; numbers and dates stay "C". */
	if (setlocale(LC_MESSAGES, "") == NULL ||
	    strcmp(setlocale(LC_MESSAGES, NULL), "C") == 0 ||
	    strcmp(setlocale(LC_MESSAGES, NULL), "POSIX") == 0)
		setlocale(LC_MESSAGES, "C.UTF-8");
	setenv("LANGUAGE", want, 1);
	/* glibc's own messages (strerror) stay English: they end up inside
	 * English evidence sentences, and LC_CTYPE "C" would turn their
	 * Japanese into '?'. */
	bindtextdomain("libc", "/nonexistent");
	bindtextdomain(RG_TEXTDOMAIN, locale_dir(dir, sizeof(dir)));
	bind_textdomain_codeset(RG_TEXTDOMAIN, "UTF-8");
	return 0;
}
