#!/bin/bash
# relayguard-audit takes targets the way nmap does: the same host:port
# named twice is audited once (its connections stay within --per-host), a
# network in CIDR notation is every address in it (with a size limit), a bare
# IPv6 address is an address, a relative --exclude file is read from here,
# and "-" named twice is refused before any connection.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/hostile.sh

W=$(mktemp -d "${TMPDIR:-/tmp}/rg-targets.XXXXXX")
rg_cleanup_add "rm -rf '$W'"
start_hostile normal-reject
T="127.0.0.1:$HPORT"
A=("$AUDIT" -s 127.0.0.2 -d victim.example --connect-timeout 2 -t 5 -f jsonl)

# --- duplicates: arguments, a list, and both together
printf '%s\n127.0.0.1:%s\n' "$T" "$HPORT" >"$W/list"
out=$("${A[@]}" "$T" "$T" -iL "$W/list" 2>"$W/err"); rc=$?
tap_is "$(jq -r .target <<<"$out" | sort | uniq -c | tr -s ' ')" " 1 $T" \
	"the same host:port four times (arguments and -iL) is audited once"
tap_is "$rc" 0 "duplicates folded: exit status of the one verdict (closed)"
tap_like "$(cat "$W/err")" "3 duplicate targets audited once" "the folded duplicates are counted"

# --- CIDR: every address of the network, at the -p port
out=$("${A[@]}" -p "$HPORT" 127.0.0.0/30 2>/dev/null)
tap_is "$(jq -r '"\(.host) \(.verdict)"' <<<"$out" | sort | tr '\n' ' ')" \
	"127.0.0.0 unreachable 127.0.0.1 closed 127.0.0.2 unreachable 127.0.0.3 unreachable " \
	"127.0.0.0/30: the four addresses audited, the server's one graded"
out=$("${A[@]}" -p "$HPORT" 127.0.0.1/32 127.0.0.1 2>/dev/null)
tap_is "$(jq -r .host <<<"$out")" "127.0.0.1" "a /32 is one address, and folds with the same address"
out=$("${A[@]}" 10.0.0.0/8 2>&1); rc=$?
tap_like "$out" "'10.0.0.0/8': more than 65536 addresses" "a /8 is refused with the limit named"
tap_isnt "$rc" 0 "a /8: non-zero exit"
out=$("${A[@]}" mx.example/24 2>&1)
tap_like "$out" "not an IP network" "a name with a /length is refused"
printf '127.0.0.0/31\n' >"$W/nets"
out=$("${A[@]}" -p "$HPORT" -iL "$W/nets" 2>/dev/null)
tap_is "$(jq -r .host <<<"$out" | sort | tr '\n' ' ')" "127.0.0.0 127.0.0.1 " "a network in a -iL list"

# --- a bare IPv6 address on the command line, as in nmap
out=$("${A[@]}" --connect-timeout 1 -p "$(rg_free_port tcp)" ::1 2>&1)
tap_is "$(jq -r '"\(.host) \(.verdict)"' <<<"$out" 2>/dev/null)" "::1 unreachable" \
	"a bare ::1 is an IPv6 target (nothing listens there: unreachable)"

# --- a relative --exclude file (the README's example)
(cd "$W" && printf '127.0.0.1\n' >optout.txt &&
	"$AUDIT" --exclude optout.txt -p "$HPORT" 127.0.0.1 >out 2>err); rc=$?
tap_is "$rc" 0 "--exclude optout.txt (relative) is read"
tap_like "$(cat "$W/err")" "1 targets excluded" "the relative exclude file excluded the target"
tap_is "$(cat "$W/out")" "" "an excluded target has no result and was not contacted"
out=$("$AUDIT" --exclude "$W/none.txt" 127.0.0.1 2>&1); rc=$?
tap_like "$out" "--exclude: $W/none.txt: No such file" "a missing --exclude file is named"

# --- "-" twice: refused before any connection
out=$(printf '%s\n' "$T" | "${A[@]}" -iL - - 2>&1); rc=$?
tap_like "$out" "stdin \('-'\) named twice" "-iL - - is refused"
tap_is "$(jq -r 'select(.target) | .target' <<<"$out" 2>/dev/null)" "" \
	"-iL - -: no target audited before the refusal"
tap_done
