# relayguard - build, test, demo, install.
#
#   make            build the three programs (audit, milter, report) into $(BUILD)/
#   make deps       install missing Debian packages (root, non-interactive)
#   make check      deps + build + layout check + unit and integration tests
#   make layout     the floors' include, call and link rules (check-layout.sh)
#   make check SANITIZE=1   the same suite built with ASan+UBSan (build-san/)
#   make check SANITIZE=thread   ThreadSanitizer build (build-tsan/)
#   make demo       reproduce the 1997 open-relay incident and its fix
#   make install    PREFIX=/usr/local SYSCONFDIR=/etc DESTDIR=  (make uninstall)
#   make deb        the Debian package relayguard_VERSION_ARCH.deb (debian/)
#   make bench      benchmarks (figures and ratios against a baseline)

PREFIX	?= /usr/local
DESTDIR	?=
SANITIZE ?=

ifeq ($(SANITIZE),1)
BUILD	?= build-san
OPTFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDSAN	= -fsanitize=address,undefined
else ifeq ($(SANITIZE),thread)
# ThreadSanitizer (build-tsan/): data races between the milter's worker
# threads and its signal thread; libmilter itself is not instrumented.
BUILD	?= build-tsan
OPTFLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
LDSAN	= -fsanitize=thread
else
BUILD	?= build
OPTFLAGS = -O2 -g -D_FORTIFY_SOURCE=2
LDSAN	=
endif

CC	?= cc
# Each program links the packages it calls (README "Layout"; checked by
# scripts/check-layout.sh): lib/net takes ldns and libevent, lib/mail
# libspf2, jansson and libxml2; OpenSSL is the auditor's STARTTLS (the
# reporter's X-ARF digest takes libcrypto only), libpsl the auditor's and
# the milter's.
# Unit tests, tools and fuzz targets take them all (PKG_LIBS).
PKGS	= jansson openssl ldns libxml-2.0 libpsl libevent libevent_pthreads
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lspf2
AUDIT_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lspf2
MILTER_LIBS := $(shell pkg-config --libs jansson ldns libpsl libevent \
	libevent_pthreads 2>/dev/null) -lspf2
REPORT_LIBS := $(shell pkg-config --libs jansson libcrypto libxml-2.0 2>/dev/null)
WARN	= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-unknown-warning-option -Wno-format-truncation
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong \
	     $(OPTFLAGS) -I. $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDSAN) $(LDFLAGS)
# Translations (po/*.po, English is the source language): compiled next to
# the programs, where lib/base/i18n.c finds them; installed under LOCALEDIR.
LOCALEDIR ?= $(PREFIX)/share/locale
ALL_CFLAGS += -DRG_LOCALEDIR='"$(LOCALEDIR)"'
PO_SRC	  = $(wildcard po/*.po)
MO_FILES  = $(PO_SRC:po/%.po=$(BUILD)/locale/%/LC_MESSAGES/relayguard.mo)

# lib/base (no mail), lib/net (DNS, fibers), lib/mail (what two or three
# programs share): one archive, from which each program takes the objects
# it calls. Program code lives in audit/, milter/ and report/ only.
LIB_SRC	  = $(wildcard lib/*/*.c)
LIB_OBJ	  = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBRG	  = $(BUILD)/librelayguard.a
AUDIT_SRC = $(wildcard audit/*.c)
AUDIT_OBJ = $(AUDIT_SRC:%.c=$(BUILD)/%.o)
MILTER_SRC = $(wildcard milter/*.c milter/*/*.c)
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)
REPORT_SRC = $(wildcard report/*.c)
REPORT_OBJ = $(REPORT_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  = $(wildcard tests/tools/*.c)
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EVENT_LIBS := $(shell pkg-config --libs libevent 2>/dev/null)

PROGRAMS  = $(BUILD)/relayguard-audit $(BUILD)/relayguard-report
ifneq ($(MILTER_SRC),)
PROGRAMS += $(BUILD)/relayguard-milter
endif

.PHONY: all programs pot deps check unit demo install uninstall clean bench fuzz deb layout
all: $(PROGRAMS) $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN) $(MO_FILES)

# What make install installs (debian/rules builds just this).
programs: $(PROGRAMS) $(MO_FILES)

$(BUILD)/locale/%/LC_MESSAGES/relayguard.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

# po/relayguard.pot from the sources (then: msgmerge -U po/ja.po po/relayguard.pot)
pot:
	xgettext --from-code=UTF-8 -k_ -kN_ -c --package-name=relayguard \
		-o po/relayguard.pot $(LIB_SRC) audit/*.c report/*.c

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBRG): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/relayguard-audit: $(AUDIT_OBJ) $(LIBRG)
	$(CC) $(ALL_LDFLAGS) -o $@ $(AUDIT_OBJ) $(LIBRG) $(AUDIT_LIBS) -lpthread

$(BUILD)/relayguard-report: $(REPORT_OBJ) $(LIBRG)
	$(CC) $(ALL_LDFLAGS) -o $@ $(REPORT_OBJ) $(LIBRG) $(REPORT_LIBS)

# libmicrohttpd: the milter's optional metrics listener (MetricsListen)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
$(BUILD)/milter/metrics_http.o: ALL_CFLAGS += $(MHD_CFLAGS)
# hiredis: the milter's optional shared state on Redis (SharedState)
HIREDIS_CFLAGS := $(shell pkg-config --cflags hiredis 2>/dev/null || echo -I/usr/include/hiredis)
HIREDIS_LIBS   := $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
$(BUILD)/milter/shared.o: ALL_CFLAGS += $(HIREDIS_CFLAGS)
$(BUILD)/relayguard-milter: $(MILTER_OBJ) $(LIBRG)
	$(CC) $(ALL_LDFLAGS) -o $@ $(MILTER_OBJ) $(LIBRG) -lmilter $(MHD_LIBS) $(HIREDIS_LIBS) $(MILTER_LIBS) -lpthread

# Unit tests use audit/ internals (grading, reports) and the milter's
# modules that call no libmilter (policy/, bounce/, metrics, clients):
# each program's objects but its main, from archives, so a test takes
# only what it calls.
AUDIT_LIBOBJ = $(filter-out $(BUILD)/audit/main.o,$(AUDIT_OBJ))
MILTER_MODSRC = $(wildcard milter/policy/*.c milter/bounce/*.c) \
	$(filter milter/metrics.c milter/clients.c milter/shared_url.c \
	milter/abuser_state.c,$(MILTER_SRC))
MILTER_LIBOBJ = $(MILTER_MODSRC:%.c=$(BUILD)/%.o)
LIBAUDIT  = $(BUILD)/audit/libaudit.a
LIBMILTER = $(BUILD)/milter/libmilter-modules.a
$(LIBAUDIT): $(AUDIT_LIBOBJ)
	@rm -f $@
	ar rcs $@ $^
$(LIBMILTER): $(MILTER_LIBOBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBAUDIT) $(LIBMILTER) $(LIBRG)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iaudit $(ALL_LDFLAGS) -o $@ $< $(LIBAUDIT) $(LIBMILTER) \
		$(LIBRG) $(PKG_LIBS) -lcmocka -lpthread

$(BUILD)/bench/countertab: bench/countertab.c $(LIBRG)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBRG) $(PKG_LIBS) -lpthread

$(BUILD)/tests/tools/%: tests/tools/%.c $(LIBRG)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBRG) $(PKG_LIBS) -lpthread

# bench/milter.sh's floor: the least a milter can cost (libmilter).
$(BUILD)/bench/floormilter: bench/floormilter.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -lmilter -lpthread

# The scale bench's simulated MTAs and delay proxy (bench/scale.sh).
$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(EVENT_LIBS)

deps:
	@sh scripts/deps.sh

# make deb first: tests/integration/730_deb_install.sh installs the package
# (31-101 s to build, README; reused while the sources are unchanged).
check: deps
	$(MAKE) all
	sh scripts/check-layout.sh $(BUILD)
	$(MAKE) deb
	BUILD=$(BUILD) sh tests/run

# README "Layout": lib/ floors only look down, no include or call cycle,
# each program holds and links only what it uses.
layout: all
	sh scripts/check-layout.sh $(BUILD)

unit: all
	BUILD=$(BUILD) RG_ONLY=unit sh tests/run

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) bash scripts/demo.sh

bench: deps
	$(MAKE) all $(BUILD)/bench/countertab
	$(BUILD)/bench/countertab
	BUILD=$(BUILD) bash bench/run
	BUILD=$(BUILD) bash bench/scale.sh
	BUILD=$(BUILD) bash bench/milter.sh

# libFuzzer targets (clang only): make fuzz FUZZ_TIME=60 builds every
# tests/fuzz/fuzz_*.c into build-fuzz/ and runs each for FUZZ_TIME seconds
# from its seed corpus tests/fuzz/corpus/<target>/ (new inputs go to
# build-fuzz/corpus/<target>/). A crash, leak or UB stops with an error.
FUZZ_TIME ?= 60
FUZZ_BUILD = build-fuzz
FUZZ_SAN  = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) -I. $(PKG_CFLAGS) $(FUZZ_SAN)
# Every target links lib/ and the milter's modules (MILTER_MODSRC).
FUZZ_LIBOBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) $(MILTER_MODSRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BIN  = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/milter/%.o: milter/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/audit/%.o: audit/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# a target that fuzzes report/ code links those objects too: FUZZ_EXTRA_<target>
FUZZ_EXTRA_fuzz_notify = $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard report/notify_*.c))
FUZZ_EXTRA_fuzz_reply = $(FUZZ_BUILD)/audit/reply.o
$(FUZZ_BUILD)/fuzz_reply: $(FUZZ_EXTRA_fuzz_reply)
$(FUZZ_BUILD)/fuzz_notify: $(FUZZ_EXTRA_fuzz_notify) report/notify.h

$(FUZZ_BUILD)/report/%.o: report/%.c report/notify.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIBOBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_EXTRA_$(notdir $@)) \
		$(FUZZ_LIBOBJ) $(PKG_LIBS) -lpthread

.PHONY: fuzz-build
.SECONDARY: $(FUZZ_LIBOBJ) $(FUZZ_EXTRA_fuzz_notify) $(FUZZ_EXTRA_fuzz_reply)
fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@for f in $(FUZZ_BIN); do t=$$(basename $$f); \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		seeds=tests/fuzz/corpus/$$t; [ -d $$seeds ] || seeds=; \
		echo "=== $$t ($(FUZZ_TIME) s)"; \
		$$f -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=1024 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/$$t- \
			$(FUZZ_BUILD)/corpus/$$t $$seeds 2>$(FUZZ_BUILD)/$$t.log || \
			{ tail -40 $(FUZZ_BUILD)/$$t.log; echo "FAIL $$t"; exit 1; }; \
		grep -E "stat::number_of_executed_units|stat::peak_rss" $(FUZZ_BUILD)/$$t.log; \
	done

# Install tree (DESTDIR for staging, PREFIX for programs and data,
# SYSCONFDIR for the config, which is never overwritten):
#   $(PREFIX)/bin/relayguard-audit, relayguard-report
#   $(PREFIX)/sbin/relayguard-milter
#   $(SYSCONFDIR)/relayguard/relayguard.conf     only when none exists
#   $(SYSCONFDIR)/relayguard/reporter.conf       likewise
#   $(UNITDIR)/relayguard-milter.service         systemd unit
#   $(TMPFILESDIR)/relayguard.conf, $(SYSUSERSDIR)/relayguard.conf
#   $(SYSCONFDIR)/logrotate.d/relayguard        EventLog rotation
#   $(PREFIX)/share/man/man{1,5,8}, $(DOCDIR)     man pages, README, samples
SYSCONFDIR  ?= /etc
SBINDIR	    ?= $(PREFIX)/sbin
BINDIR	    ?= $(PREFIX)/bin
MANDIR	    ?= $(PREFIX)/share/man
DOCDIR	    ?= $(PREFIX)/share/doc/relayguard
SYSTEMDDIR  ?= $(PREFIX)/lib/systemd
UNITDIR	    ?= $(SYSTEMDDIR)/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
# fail2ban's filter and (disabled) jails for the milter's event log
F2BDIR ?= $(SYSCONFDIR)/fail2ban
RG_CONF	    = $(DESTDIR)$(SYSCONFDIR)/relayguard/relayguard.conf
RG_REPORTER_CONF = $(DESTDIR)$(SYSCONFDIR)/relayguard/reporter.conf

# Reliability under load and faults (minutes; not part of make check):
# real Postfix + milter, SOAK_MESSAGES (20000) per phase, clean and with
# SOAK_KILLS (5) SIGKILLs of the milter; see tests/soak/soak.sh.
.PHONY: soak valgrind
soak: deps
	$(MAKE) all
	BUILD=$(BUILD) bash tests/soak/soak.sh

# The milter under valgrind --leak-check=full through an integration-style
# run; fails on any definite or indirect leak (tests/soak/valgrind.sh).
valgrind: deps
	$(MAKE) all
	BUILD=$(BUILD) bash tests/soak/valgrind.sh

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/relayguard $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(LOGROTATEDIR)
	install -m 755 $(BUILD)/relayguard-audit $(BUILD)/relayguard-report $(DESTDIR)$(BINDIR)/
	install -m 755 $(BUILD)/relayguard-milter $(DESTDIR)$(SBINDIR)/
	install -m 644 docs/relayguard-audit.1 docs/relayguard-report.1 $(DESTDIR)$(MANDIR)/man1/
	for m in $(MO_FILES); do l=$${m#$(BUILD)/locale/}; \
		install -D -m 644 $$m $(DESTDIR)$(LOCALEDIR)/$$l || exit 1; done
	for f in docs/*.5; do [ ! -f $$f ] || install -m 644 $$f $(DESTDIR)$(MANDIR)/man5/; done
	for f in docs/*.8; do [ ! -f $$f ] || install -m 644 $$f $(DESTDIR)$(MANDIR)/man8/; done
	install -m 644 README.md conf/* $(DESTDIR)$(DOCDIR)/
	@for c in $(RG_CONF) $(RG_REPORTER_CONF); do \
		if [ -e $$c ]; then \
			echo "install: kept $$c (the new sample is $(DESTDIR)$(DOCDIR)/$${c##*/})"; \
		else \
			install -m 644 conf/$${c##*/} $$c && echo "install: wrote $$c" || exit 1; \
		fi; \
	done
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		packaging/relayguard-milter.service.in >$(DESTDIR)$(UNITDIR)/relayguard-milter.service
	chmod 644 $(DESTDIR)$(UNITDIR)/relayguard-milter.service
	install -m 644 packaging/relayguard.tmpfiles $(DESTDIR)$(TMPFILESDIR)/relayguard.conf
	install -m 644 packaging/relayguard.sysusers $(DESTDIR)$(SYSUSERSDIR)/relayguard.conf
	install -m 644 packaging/relayguard.logrotate $(DESTDIR)$(LOGROTATEDIR)/relayguard
	install -D -m 644 packaging/fail2ban/filter.d/relayguard.conf $(DESTDIR)$(F2BDIR)/filter.d/relayguard.conf
	install -D -m 644 packaging/fail2ban/jail.d/relayguard.conf $(DESTDIR)$(F2BDIR)/jail.d/relayguard.conf
	@[ -n "$(DESTDIR)" ] || echo "install: next: systemd-sysusers; systemd-tmpfiles --create; systemctl daemon-reload; edit $(RG_CONF); systemctl enable --now relayguard-milter"

# Removes what install wrote; the config only when it is still the sample.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/relayguard-audit $(DESTDIR)$(BINDIR)/relayguard-report \
		$(DESTDIR)$(SBINDIR)/relayguard-milter \
		$(DESTDIR)$(UNITDIR)/relayguard-milter.service \
		$(DESTDIR)$(TMPFILESDIR)/relayguard.conf $(DESTDIR)$(SYSUSERSDIR)/relayguard.conf \
		$(DESTDIR)$(LOGROTATEDIR)/relayguard \
		$(DESTDIR)$(F2BDIR)/filter.d/relayguard.conf $(DESTDIR)$(F2BDIR)/jail.d/relayguard.conf
	for f in docs/*.1 docs/*.5 docs/*.8; do \
		rm -f $(DESTDIR)$(MANDIR)/man$${f##*.}/$${f##*/}; done
	rm -rf $(DESTDIR)$(DOCDIR)
	for p in $(PO_SRC); do l=$${p#po/}; \
		rm -f $(DESTDIR)$(LOCALEDIR)/$${l%.po}/LC_MESSAGES/relayguard.mo; done
	@for c in $(RG_CONF) $(RG_REPORTER_CONF); do \
		if cmp -s conf/$${c##*/} $$c; then \
			rm -f $$c; \
		elif [ -e $$c ]; then \
			echo "uninstall: kept $$c (changed from the sample)"; \
		fi; \
	done; rmdir $(DESTDIR)$(SYSCONFDIR)/relayguard 2>/dev/null || true

# The Debian package relayguard_VERSION_ARCH.deb (debian/, dpkg-buildpackage
# in build-deb/, then lintian; scripts/deb.sh). Reused while the sources
# are unchanged.
deb:
	@sh scripts/deb.sh

clean:
	rm -rf build build-san build-tsan build-fuzz build-deb

-include $(LIB_OBJ:.o=.d) $(AUDIT_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(REPORT_OBJ:.o=.d)
