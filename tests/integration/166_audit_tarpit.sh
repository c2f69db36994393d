#!/bin/bash
# relayguard-audit against tarpits and silent per-IP limits (issue 17 item 4),
# on hostile_smtpd modes that behave as Debian's Courier does (TARPIT=1,
# couriertcpd -maxperip; tests/integration/165_audit_courier.sh has the real
# one):
# - tarpit: a closed server whose error replies come late, 2 s for a
#   session's first error and twice as long for each further one, and that
#   closes a connection at the greeting, without a 421, while 3 of ours are
#   served. The audit measures the delay, gives each tarpitted session no
#   further probe, waits long enough for a late reply, lowers --per-host on
#   the silent close and reconnects only into a free place: every probe is
#   graded, the verdict is closed and says "tarpitting: 2 s per error";
#   with a --budget too short for the battery it is inconclusive within the
#   budget, with the number of probes not run. A RCPT to a bare path gets
#   "554 Syntax error" at once and the sleep comes before the session's
#   next reply instead (the real Courier does): that error, too, costs the
#   session (no further probe), and no reply is awaited in vain.
# - tarpit-open: the same on an open relay that refuses routing tricks late
#   (Courier's "open" profile, its EHLO naming Courier): the fast 554 says
#   nothing of how refusals are timed, one probe a group; no probe lost, no
#   group dropped, the verdict open_relay.
# - close-at-greeting-when-busy: the silent close alone (2 at once, no
#   tarpit): it counts as "too many connections", no probe is lost to it.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

rg_built "$HOSTILE"
source tests/lib/hostile.sh	# start_logged: its log in $W/MODE.log
W=$(mktemp -d)
rg_cleanup_add "rm -rf $W"

# audit TAG BUDGET: one target, JSON with the transcript; sets OUT, RC, SECS
audit() {
	local t0
	t0=$(rg_now_ms)
	OUT=$(timeout 150 "$AUDIT" -p "$HPORT" -d victim.example -t 5 --connect-timeout 3 \
		--budget "$2" --transcript -f json 127.0.0.1 2>"$W/$1.err") && RC=0 || RC=$?
	SECS=$((($(rg_now_ms) - t0) / 1000))
	tap_diag "$1: $(jq -r .verdict <<<"$OUT") in ${SECS}s: $(jq -r .verdict_reason <<<"$OUT")"
}
count() { jq -r "[$1] | length" <<<"$OUT"; }
greeting_closes() { grep -c 'closed at the greeting' "$W/$1.log"; }
# in_vain: replies the audit awaited in vain, groups dropped
in_vain() { count '.transcript[] | select(.line | test("no complete reply|dropped on a pipelined"))'; }
# after_554: MAILs the session of the fast "554 Syntax error" (a bare path)
# sent after that 554: none, any error on a tarpit costs the session
after_554() {
	jq -r '[.transcript[] | select(.dir == "<" or .dir == ">")] as $t
	| ($t | map(.line | startswith("554 Syntax error")) | index(true)) as $i
	| [$t[$i + 1:][] | select(.session == $t[$i].session and .dir == ">")
		| select(.line | startswith("MAIL"))] | length' <<<"$OUT"
}
lowered() { jq -r '[.transcript[] | select(.line | test("closed a connection before its greeting \\(no 421\\)"))] | length' <<<"$OUT"; }

# --- tarpit, budget enough for the battery ---------------------------------
export HOSTILE_TARPIT=2 HOSTILE_MAXPERIP=3
start_logged tarpit
audit "tarpit" 100
tap_is "$(jq -r .verdict <<<"$OUT")" closed "tarpit: the verdict is closed"
tap_is "$RC" 0 "tarpit: exit 0"
tap_like "$(jq -r .verdict_reason <<<"$OUT")" "tarpitting: 2 s per error" \
	"tarpit: the report says the server tarpits, 2 s per error"
tap_is "$(count '.tests[] | select(.outcome == "error")')" 0 \
	"tarpit: no probe lost to a reply timeout or a close at the greeting"
tap_is "$(count '.tests[] | select(.control | not) | select(.outcome == "rejected")')" \
	"$(count '.tests[] | select(.control | not) | select(.stage == "rcpt")')" \
	"tarpit: every relay probe that reached RCPT is graded rejected"
tap_check "tarpit: within --budget 100 (${SECS}s)" test "$SECS" -lt 100
n=$(greeting_closes tarpit)
tap_check "tarpit: the server closed at most 4 connections at the greeting ($n): the limit came down and stayed" test "$n" -le 4
tap_is "$(jq -r '.politeness.tarpit_seconds >= 1.5 and .politeness.tarpit_seconds < 3' <<<"$OUT")" true \
	"tarpit: the JSON gives the delay, about 2 s (politeness.tarpit_seconds)"
tap_is "$(in_vain)" 0 "tarpit: no reply awaited in vain, no group dropped"
tap_is "$(after_554)" 0 "tarpit: the session of the fast 554 gets no further probe"
stop_hostile

# --- tarpit, budget too short for the battery --------------------------------
start_logged tarpit
audit "tarpit --budget 20" 20
tap_is "$(jq -r .verdict <<<"$OUT")" inconclusive \
	"tarpit --budget 20: inconclusive, never closed on part of the battery"
tap_like "$(jq -r .verdict_reason <<<"$OUT")" \
	"were refused, but [0-9]+ more were not run within --budget: a longer --budget gives the verdict.*tarpitting: 2 s per error" \
	"tarpit --budget 20: the report says how many were not run, and why"
tap_check "tarpit --budget 20: the verdict within the budget (${SECS}s, 10 s slack)" test "$SECS" -le 30
stop_hostile

# --- tarpit-open: Courier's fast 554 to a bare path, on an open relay --------
# A syntax error answered at once says nothing of how the server times its
# refusals: the audit keeps its groups small until a refusal is timed (else
# groups of nine meet 2, 4, 8, 16 s ... and the replies time out), and the
# late reply after that 554 (the tarpit's sleep, moved) marks its session
# tarpitted.
start_logged tarpit-open
audit "tarpit-open" 100
tap_is "$(jq -r .verdict <<<"$OUT")" open_relay "tarpit-open: the verdict is open_relay"
tap_is "$(count '.tests[] | select(.outcome == "error")')" 0 \
	"tarpit-open: no probe lost to a reply timeout"
tap_is "$(in_vain)" 0 "tarpit-open: no reply awaited in vain, no group dropped"
tap_check "tarpit-open: well within --budget 100 (${SECS}s)" test "$SECS" -lt 60
tap_is "$(after_554)" 0 "tarpit-open: the session of the fast 554 gets no further probe"
# Courier (its EHLO says so) tarpits by default: one probe a group until
# an error is timed (two probes refused at MAIL would chain four sleeps)
# (a write: the commands of a session between two replies)
tap_is "$(jq -r '[.transcript[] | select(.dir == "<" or .dir == ">")] | group_by(.session)
	| map(reduce .[] as $l ({cur: 0, most: 0}; if $l.dir == "<" then .cur = 0
		elif ($l.line | startswith("MAIL")) then .cur += 1 | .most = ([.most, .cur] | max)
		else . end) | .most) | max' <<<"$OUT")" 1 \
	"tarpit-open: Courier gets one MAIL a write, never a group of two"
stop_hostile
unset HOSTILE_TARPIT HOSTILE_MAXPERIP

# --- a silent close at the greeting, no tarpit --------------------------------
start_logged close-at-greeting-when-busy
audit "close-at-greeting-when-busy" 60
tap_is "$(jq -r .verdict <<<"$OUT")" closed "close-at-greeting-when-busy: the verdict is closed"
tap_is "$(count '.tests[] | select(.outcome == "error")')" 0 \
	"close-at-greeting-when-busy: no probe lost to the close at the greeting"
tap_check "close-at-greeting-when-busy: the close counts as too many connections (--per-host lowered)" test "$(lowered)" -ge 1
n=$(greeting_closes close-at-greeting-when-busy)
tap_check "close-at-greeting-when-busy: at most 4 connections closed at the greeting ($n), not one per probe" test "$n" -le 4
stop_hostile
tap_done
