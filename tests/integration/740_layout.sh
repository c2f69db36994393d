#!/bin/bash
# The house's floors (issue 18, README "Layout"): scripts/check-layout.sh
# passes on the tree and the programs as built, and fails on each kind of
# violation planted in a scratch copy: a lib/ file including a program's
# header, lib/base including lib/net or lib/mail, lib/net including
# lib/mail, a program including another's header, an include cycle, an
# old-layout include, a call cycle between lib/ objects, and a reporter
# that holds milter symbols and links libmilter.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

[ -x "$BUILD/relayguard-report" ] && [ -x "$BUILD/relayguard-milter" ] ||
	tap_bail "$BUILD not built (make)"
D=$(mktemp -d "${TMPDIR:-/tmp}/rg-layout.XXXXXX") || tap_bail "mktemp"
rg_cleanup_add "rm -rf '$D'"

out=$(sh scripts/check-layout.sh "$BUILD" 2>&1) && rc=0 || rc=$?
tap_is "$rc" 0 "the tree and the programs in $BUILD keep the floors"
tap_like "$out" "check-layout: ok" "it says so"

fresh() {	# a scratch copy of the sources (no git: the script walks it)
	rm -rf "$D/t"
	mkdir -p "$D/t"
	cp -r lib audit milter report scripts "$D/t/"
}
expect_fail() {	# DESCRIPTION, PATTERN: the scratch tree fails with PATTERN
	local o r
	o=$(sh "$D/t/scripts/check-layout.sh" "${3:-nobuild}" 2>&1) && r=0 || r=$?
	tap_is "$r" 1 "$1: check-layout fails"
	tap_like "$o" "$2" "$1: it names the violation"
}
plant() {	# FILE, LINE: add an include line after the file's first include
	sed -i "0,/^#include/s||$2\n&|" "$D/t/$1"
}

fresh
out=$(sh "$D/t/scripts/check-layout.sh" nobuild 2>&1) && rc=0 || rc=$?
tap_is "$rc" 0 "an unchanged copy passes (sources only)"

fresh; plant lib/mail/spf.c '#include "milter/metrics.h"'
expect_fail "lib/mail includes a milter header" "lib/mail/spf.c: lib/ includes a program's header milter/metrics.h"
fresh; plant lib/base/util.c '#include "lib/net/dns.h"'
expect_fail "lib/base includes lib/net" "lib/base/util.c: lib/base includes the higher floor lib/net"
fresh; plant lib/base/log.c '#include "lib/mail/eventlog.h"'
expect_fail "lib/base includes lib/mail" "lib/base/log.c: lib/base includes the higher floor lib/mail"
fresh; plant lib/net/dns.c '#include "lib/mail/spf.h"'
expect_fail "lib/net includes lib/mail" "lib/net/dns.c: lib/net includes the higher floor lib/mail"
fresh; plant audit/main.c '#include "milter/metrics.h"'
expect_fail "the auditor includes a milter header" "audit/main.c: the audit program includes milter's header"
fresh; plant lib/base/textclean.h '#include "lib/base/log.h"'
expect_fail "an include cycle (log.c -> textclean.h -> log.h)" "include cycle: lib/base/log <-> lib/base/textclean"
fresh; plant report/main.c '#include "relayguard/util.h"'
expect_fail "an old-layout include" "report/main.c: #include \"relayguard/util.h\" resolves to no file"

# A call cycle: two lib/base objects that call each other.
fresh
mkdir -p "$D/t/b/lib/base"
printf 'int zz_b(int);\nint zz_a(int n) { return n ? zz_b(n - 1) : 0; }\n' >"$D/t/lib/base/zz_a.c"
printf 'int zz_a(int);\nint zz_b(int n) { return n ? zz_a(n - 1) : 1; }\n' >"$D/t/lib/base/zz_b.c"
for f in zz_a zz_b; do
	cc -c -o "$D/t/b/lib/base/$f.o" "$D/t/lib/base/$f.c" || tap_bail "cc $f.c"
done
expect_fail "a call cycle between lib/ objects" "call cycle: lib/base/zz_a.o <-> lib/base/zz_b.o" b

# A reporter that is the milter: milter symbols, libmilter and libspf2.
fresh
mkdir -p "$D/t/b"
cp "$BUILD/relayguard-milter" "$D/t/b/relayguard-report"
B=$(cd "$BUILD" && pwd) || tap_bail "cd $BUILD"	# tests/run makes it absolute
for d in lib audit milter report; do ln -s "$B/$d" "$D/t/b/$d"; done
expect_fail "relayguard-report holding milter code" "relayguard-report holds [0-9]* milter symbol" b
tap_like "$(sh "$D/t/scripts/check-layout.sh" b 2>&1)" "relayguard-report links libmilter" \
	"relayguard-report linking libmilter: it names the library"
tap_like "$(sh "$D/t/scripts/check-layout.sh" b 2>&1)" "relayguard-report links libspf2" \
	"relayguard-report linking libspf2: it names the library"
tap_done
