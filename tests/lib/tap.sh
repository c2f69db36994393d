# tests/lib/tap.sh - TAP output for relayguard's integration scripts (bash).
#
# Source it, emit one line per check, end with tap_done:
#
#   tap_ok "desc"                     ok N - desc
#   tap_fail "desc" ["diagnostic"]    not ok N - desc, then "# diagnostic" lines
#   tap_check "desc" CMD ARGS...      ok when CMD succeeds; on failure its output
#                                     (stdout+stderr, last 20 lines) as diagnostics
#   tap_is "$got" "$want" "desc"      ok when the strings are equal
#   tap_isnt "$got" "$unwanted" "desc"
#   tap_like "$got" "ERE" "desc"      ok when got matches the extended regex
#   tap_unlike "$got" "ERE" "desc"
#   tap_skip "desc" "reason"          ok N - desc # SKIP reason
#   tap_diag "text"                   # text (each line prefixed)
#   tap_bail "reason"                 "Bail out! reason", then exit 1
#   TAP_TODO="reason" (set around checks, unset after): the checks print
#                                     "# TODO reason"; a TODO "not ok" is
#                                     counted but is not a failure (known, not
#                                     yet fixed), a TODO "ok" is a bonus
#   tap_done                          prints the plan 1..N; its status (and, called
#                                     as the script's last command, the script's
#                                     exit status) is 1 when any check failed
#
# Skips: a skip is an "ok" line, so tests/run counts it as passed; it prints the
# number of skips separately. Every helper returns 0 on ok and 1 on not ok, so a
# script may stop early: tap_check "..." cmd || { tap_done; exit 1; }.
# Descriptions must not contain "#" (TAP would read a directive); it is replaced.

[ -n "${RG_TAP_SH_LOADED:-}" ] && return 0
RG_TAP_SH_LOADED=1

TAP_N=0
TAP_FAILED=0
TAP_SKIPPED=0

tap_diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

tap__desc() {
	local d=${1//#/No.}
	printf '%s' "${d//$'\n'/ }"
}

tap__todo() {
	[ -n "${TAP_TODO:-}" ] && printf ' # TODO %s' "$(tap__desc "$TAP_TODO")"
	return 0
}

tap_ok() {
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s%s\n' "$TAP_N" "$(tap__desc "$1")" "$(tap__todo)"
	return 0
}

tap_fail() {
	TAP_N=$((TAP_N + 1))
	[ -n "${TAP_TODO:-}" ] || TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s%s\n' "$TAP_N" "$(tap__desc "$1")" "$(tap__todo)"
	[ $# -ge 2 ] && [ -n "$2" ] && tap_diag "$2"
	return 1
}

tap_check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "command failed (status $rc): $*
$(printf '%s\n' "$out" | tail -n 20)"
	fi
}

tap_is() {
	if [ "$1" = "$2" ]; then
		tap_ok "$3"
	else
		tap_fail "$3" "     got: '$1'
expected: '$2'"
	fi
}

tap_isnt() {
	if [ "$1" != "$2" ]; then
		tap_ok "$3"
	else
		tap_fail "$3" "     got: '$1'
expected anything else"
	fi
}

tap_like() {
	if [[ $1 =~ $2 ]]; then
		tap_ok "$3"
	else
		tap_fail "$3" "                  '$1'
doesn't match '$2'"
	fi
}

tap_unlike() {
	if [[ $1 =~ $2 ]]; then
		tap_fail "$3" "                '$1'
matches '$2'"
	else
		tap_ok "$3"
	fi
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	TAP_SKIPPED=$((TAP_SKIPPED + 1))
	printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$(tap__desc "$1")" "${2:-}"
	return 0
}

tap_bail() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

tap_done() {
	printf '1..%d\n' "$TAP_N"
	[ "$TAP_FAILED" -eq 0 ] || tap_diag "failed $TAP_FAILED of $TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
