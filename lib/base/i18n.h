/*
 * i18n.h - translated report text (gettext, text domain "relayguard").
 *
 * English is the source language; po/ja.po holds the Japanese catalogue,
 * compiled by msgfmt at build time into $(BUILD)/locale/ja/LC_MESSAGES/
 * relayguard.mo (installed under $(PREFIX)/share/locale).
 *
 * rg_i18n_init(lang, fallback) picks the language once at program start:
 * lang ("ja", "en", or NULL) comes from --lang; NULL falls back to the
 * first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set and names a
 * language (not C/POSIX), then to fallback (the reporter profile's
 * Language, or NULL), then to English. It
 * does not depend on system locales being generated: when the environment's
 * locale cannot be set (ja_JP.UTF-8 is often missing), LC_MESSAGES is set
 * to C.UTF-8 (built into glibc 2.35+), and the language is chosen through
 * LANGUAGE, which gettext honours for any locale but "C"; the catalogue's
 * codeset is bound to UTF-8. LC_NUMERIC, LC_CTYPE and LC_TIME stay "C":
 * numbers and syslog-style month names never change with the language.
 *
 * The catalogue directory is $RELAYGUARD_LOCALEDIR, else "locale" next to
 * the running program (the build tree), else RG_LOCALEDIR.
 *
 * _("text") translates, N_("text") marks a string for xgettext only.
 * rg_i18n_lang() returns "ja" or "en" for xml:lang and <html lang>.
 */
#ifndef RELAYGUARD_I18N_H
#define RELAYGUARD_I18N_H

#include <libintl.h>
#include <stddef.h>

#define RG_TEXTDOMAIN "relayguard"
#define _(s) dgettext(RG_TEXTDOMAIN, s)
#define N_(s) (s)

/* 0, or -1 when lang is neither "en" nor "ja" (error text in err). */
int rg_i18n_init(const char *lang, const char *fallback, char *err, size_t errlen);
const char *rg_i18n_lang(void);

#endif
