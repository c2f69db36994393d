#!/bin/bash
# One command-line contract for the three programs (issue 19), as a Postfix
# or OpenDKIM admin expects it: -h/--help print the usage on standard output
# and exit 0; -V/--version print "PROGRAM VERSION" with the one RG_VERSION of
# lib/base/version.h, which every man page's .TH line carries too;
# an unknown option or a stray operand is a usage error, exit 64 (EX_USAGE,
# sysexits.h), with nothing on standard output. Then relayguard-milter -n
# and -d, which print the configuration the way postconf -n and -d do.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

D=$(mktemp -d "${TMPDIR:-/tmp}/rg-cli.XXXXXX") || tap_bail "mktemp"
chmod 755 "$D"
rg_cleanup_add "rm -rf '$D'"
VER=$(sed -n 's/^#define RG_VERSION[[:space:]]*"\(.*\)"$/\1/p' lib/base/version.h)
[ -n "$VER" ] || tap_bail "no RG_VERSION in lib/base/version.h"

run() {	# PROGRAM ARGS...: $rc, $out (stdout), $err (stderr)
	"$BUILD/$1" "${@:2}" >"$D/out" 2>"$D/err" && rc=0 || rc=$?
	out=$(cat "$D/out")
	err=$(cat "$D/err")
}

# --- the man pages carry the one version -----------------------------------------
for m in docs/*.1 docs/*.5 docs/*.8; do
	th=$(grep -m1 '^\.TH ' "$m")
	tap_like "$th" "\"relayguard $VER\"" "$m: .TH says relayguard $VER (lib/base/version.h)"
done

# --- -h/--help, -V/--version, usage errors: all three programs ----------------
for p in relayguard-audit relayguard-report relayguard-milter; do
	[ -x "$BUILD/$p" ] || tap_bail "$BUILD/$p not built"
	run "$p" -h
	help=$out
	tap_like "$rc:$err:$out" "^0::usage: $p " "$p -h: usage on standard output, exit 0"
	run "$p" --help
	tap_is "$rc:$err:$out" "0::$help" "$p --help: the same as -h"
	run "$p" -V
	tap_like "$rc:$err:$out" "^0::$p $VER( |\$)" "$p -V: '$p $VER', exit 0"
	version=$out
	run "$p" --version
	tap_is "$rc:$err:$out" "0::$version" "$p --version: the same as -V"
	run "$p" --no-such-option
	tap_like "$rc:$out:$(head -n 1 <<<"$err")" "^64::.*(unrecognized|unknown).*no-such-option" \
		"$p --no-such-option: usage error, exit 64, the option named on standard error"
	run "$p" -@
	tap_like "$rc:$out:$(head -n 1 <<<"$err")" "^64::.*(invalid|unknown).*@" "$p -@ (an unknown short option): exit 64"
done
run relayguard-milter -t stray
tap_like "$rc:$out:$err" "^64::.*unexpected argument 'stray'" "relayguard-milter -t OPERAND: usage error, exit 64"
run relayguard-milter -t -n
tap_like "$rc:$out:$err" "^64::.*-t and -n exclude each other" "relayguard-milter -t -n: usage error, exit 64"
run relayguard-milter --import
tap_like "$rc:$out:$err" "^64::usage: relayguard-milter --import" "relayguard-milter --import without an MTA: exit 64"
run relayguard-milter --config
tap_like "$rc:$out" "^64:$" "relayguard-milter --config without its FILE: exit 64"
# a bad option value is a usage error too, in every subcommand
run relayguard-report notify --events /dev/null --excerpt many
tap_like "$rc:$out:$err" "^64::.*--excerpt: 'many' is not a number" "relayguard-report notify --excerpt many: exit 64"
run relayguard-report blocklist --events /dev/null --prefix4 99
tap_like "$rc:$out:$err" "^64::.*--prefix4: '99' is not a number" "relayguard-report blocklist --prefix4 99: exit 64"
for v in -1 many 65537; do	# the session cap: a number, 0 (none) to 65536
	run relayguard-audit --max-sessions "$v" 127.0.0.1
	tap_like "$rc:$out:$err" "^64::.*--max-sessions: '$v' is not a number from 0 to 65536" \
		"relayguard-audit --max-sessions $v: exit 64, nothing contacted"
done
run relayguard-report blocklist --events /dev/null -f json
tap_like "$rc:$out:$err" "^64::.*--format: 'json' is not postfix, postscreen or cidr" "relayguard-report blocklist -f json: exit 64"
run relayguard-milter -h
tap_like "$out" "-n, --non-default" "relayguard-milter -h lists -n"
tap_like "$out" "-d, --defaults" "and -d"

# --- relayguard-milter -d: every key's default, as postconf -d -----------------
run relayguard-milter -d
tap_is "$rc:$err" "0:" "relayguard-milter -d: exit 0, reads no file"
tap_is "$(head -1 <<<"$out")" "Socket inet:8894@127.0.0.1" "-d: the schema's first key first, in the file's syntax"
tap_like "$out" $'\nMode enforce\nTrustedNetworks 127.0.0.0/8, ::1\n' "-d: Mode and TrustedNetworks defaults, in schema order"
tap_like "$out" $'\n# UserID \\(unset\\)\n' "-d: a key without a default is a comment"
schema=$(grep -cE '^[[:space:]]*\{"[A-Za-z0-9]+", RG_CONF_' milter/policy/configkeys.c)
tap_is "$(grep -cE '^(# )?[A-Za-z0-9]+( |$)' <<<"$out"):$(wc -l <<<"$out")" "$schema:$schema" \
	"-d: one line for each of the $schema keys of the schema (milter/policy/configkeys.c), nothing else"
printf '%s\n' "$out" >"$D/defaults.conf"
chmod 644 "$D/defaults.conf"
run relayguard-milter -n -c "$D/defaults.conf"
tap_is "$rc:$err:$out" "0::$(grep -v '^#' "$D/defaults.conf")" \
	"-d's output is a valid config: -n of it gives back every key it sets"

# --- relayguard-milter -n: what the file sets, as postconf -n -------------------
cat >"$D/site.conf" <<'EOF'
# a site
mode   log-only
LocalDomains site.example
TrustedNetworks 127.0.0.0/8

trustednetworks ::1, 192.0.2.0/24
Socket unix:/run/relayguard/milter.sock
SummaryInterval 600
EOF
chmod 644 "$D/site.conf"
run relayguard-milter -n -c "$D/site.conf"
tap_is "$rc:$err:$out" "0::Socket unix:/run/relayguard/milter.sock
Mode log-only
TrustedNetworks 127.0.0.0/8, ::1, 192.0.2.0/24
LocalDomains site.example
SummaryInterval 600" \
	"-n: the keys the file sets, schema order and spelling, list lines joined, a key set to its default too"
run relayguard-milter --non-default --config "$D/site.conf"
tap_is "$rc:$(wc -l <<<"$out")" "0:5" "--non-default --config: the same"
printf 'Mode log-only\nSummaryInterval 5\n' >"$D/bad.conf"
chmod 644 "$D/bad.conf"
run relayguard-milter -n -c "$D/bad.conf"
tap_is "$rc:$out:$err" "1::$D/bad.conf:2: SummaryInterval: '5' is not a number in 10..86400" \
	"-n on a bad file: exit 1, the parse error, nothing printed"
run relayguard-milter -n -c "$D/missing.conf"
tap_like "$rc:$out:$err" "^1::$D/missing.conf: cannot open" "-n on a missing file: exit 1"
"$BUILD/relayguard-milter" -n -c "$D/site.conf" >/dev/full 2>"$D/err" && rc=0 || rc=$?
tap_like "$rc:$(cat "$D/err")" "^1:.*write error on standard output" "-n to a full disk: exit 1, said on standard error"
tap_done
