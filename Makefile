# relayguard - build, test, demo, install.
#
#   make            build the library and both programs into $(BUILD)/
#   make deps       install missing Debian packages (root, non-interactive)
#   make check      deps + build + unit and integration tests (real Postfix)
#   make check SANITIZE=1   the same suite built with ASan+UBSan (build-san/)
#   make demo       reproduce the 1997 open-relay incident and its fix
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      benchmarks (figures and ratios against a baseline)

PREFIX	?= /usr/local
DESTDIR	?=
SANITIZE ?=

ifeq ($(SANITIZE),1)
BUILD	?= build-san
OPTFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDSAN	= -fsanitize=address,undefined
else
BUILD	?= build
OPTFLAGS = -O2 -g -D_FORTIFY_SOURCE=2
LDSAN	=
endif

CC	?= cc
PKGS	= jansson openssl ldns libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lspf2
WARN	= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-unknown-warning-option -Wno-format-truncation
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong \
	     $(OPTFLAGS) -Iinclude $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDSAN) $(LDFLAGS)

LIB_SRC	  = $(wildcard lib/*.c)
LIB_OBJ	  = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBRG	  = $(BUILD)/librelayguard.a
AUDIT_SRC = $(wildcard audit/*.c)
AUDIT_OBJ = $(AUDIT_SRC:%.c=$(BUILD)/%.o)
MILTER_SRC = $(wildcard milter/*.c)
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)
REPORT_SRC = $(wildcard report/*.c)
REPORT_OBJ = $(REPORT_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  = $(wildcard tests/tools/*.c)
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)

PROGRAMS  = $(BUILD)/relayguard-audit $(BUILD)/relayguard-report
ifneq ($(MILTER_SRC),)
PROGRAMS += $(BUILD)/relayguard-milter
endif

.PHONY: all deps check unit demo install clean bench fuzz
all: $(PROGRAMS) $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBRG): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/relayguard-audit: $(AUDIT_OBJ) $(LIBRG)
	$(CC) $(ALL_LDFLAGS) -o $@ $(AUDIT_OBJ) $(LIBRG) $(PKG_LIBS) -lpthread

$(BUILD)/relayguard-report: $(REPORT_OBJ) $(LIBRG)
	$(CC) $(ALL_LDFLAGS) -o $@ $(REPORT_OBJ) $(LIBRG) $(PKG_LIBS)

$(BUILD)/relayguard-milter: $(MILTER_OBJ) $(LIBRG)
	$(CC) $(ALL_LDFLAGS) -o $@ $(MILTER_OBJ) $(LIBRG) -lmilter $(PKG_LIBS) -lpthread

# Unit tests may use audit/ internals (grading, reports) but never milter/.
AUDIT_LIBOBJ = $(filter-out $(BUILD)/audit/main.o,$(AUDIT_OBJ))
$(BUILD)/tests/test_%: tests/unit/test_%.c $(AUDIT_LIBOBJ) $(LIBRG)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iaudit $(ALL_LDFLAGS) -o $@ $< $(AUDIT_LIBOBJ) $(LIBRG) \
		$(PKG_LIBS) -lcmocka -lpthread

$(BUILD)/tests/tools/%: tests/tools/%.c $(LIBRG)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBRG) $(PKG_LIBS) -lpthread

deps:
	@sh scripts/deps.sh

check: deps
	$(MAKE) all
	BUILD=$(BUILD) sh tests/run

unit: all
	BUILD=$(BUILD) RG_ONLY=unit sh tests/run

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) bash scripts/demo.sh

bench: deps
	$(MAKE) all
	BUILD=$(BUILD) bash bench/run

# libFuzzer targets (clang only): make fuzz; run with build-fuzz/fuzz_address -max_total_time=60
fuzz:
	@mkdir -p build-fuzz
	for f in $(FUZZ_SRC); do \
		clang -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
			-o build-fuzz/$$(basename $$f .c) $$f $(LIB_SRC) $(PKG_CFLAGS) $(PKG_LIBS) || exit 1; \
	done

install: $(PROGRAMS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/doc/relayguard
	install -m 755 $(BUILD)/relayguard-audit $(BUILD)/relayguard-report $(DESTDIR)$(PREFIX)/bin/
	[ ! -f $(BUILD)/relayguard-milter ] || \
		install -m 755 $(BUILD)/relayguard-milter $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/relayguard-audit.1 docs/relayguard-report.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	for f in docs/*.5; do [ ! -f $$f ] || install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man5/; done
	for f in docs/*.8; do [ ! -f $$f ] || install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man8/; done
	install -m 644 README.md conf/* $(DESTDIR)$(PREFIX)/share/doc/relayguard/

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(AUDIT_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(REPORT_OBJ:.o=.d)
