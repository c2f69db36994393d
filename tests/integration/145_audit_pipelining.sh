#!/bin/bash
# RFC 2920 pipelining in relayguard-audit: on real Postfix the pipelined and
# the lock-step battery give identical results; a server that did not offer
# PIPELINING (and drops clients that pipeline anyway, as Postfix's
# smtpd_forbid_unauth_pipelining does) is never pipelined to; a reply stream
# out of step (an unsolicited extra line) is detected, the target falls back
# to lock-step, and no false acceptance comes out of it.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

rg_built "$HOSTILE"
A=("$AUDIT" -s 127.0.0.2 -d victim.example -t 10 -f json)
# per probe: id, the attempt's sender, outcome, stage, code, enhanced code, DATA
probes() { jq -c '[.tests[] | [.id, .mail_from, .outcome, .stage, .code, .enhanced, .data]]'; }

for prof in closed open; do
	pf_start "$prof" >/dev/null || tap_bail "cannot start Postfix ($prof)"
	piped=$("${A[@]}" -p "$PF_PORT" 127.0.0.1 2>/dev/null)
	lock=$("${A[@]}" -p "$PF_PORT" --no-pipelining 127.0.0.1 2>/dev/null)
	tap_check "$prof: the pipelined run pipelined (groups > 0, no desync)" jq -e \
		'.pipelining.offered and .pipelining.groups > 0 and (.pipelining.desync|not)' <<<"$piped"
	tap_is "$(jq -r .pipelining.groups <<<"$lock")" 0 "$prof: --no-pipelining sent no group"
	tap_is "$(probes <<<"$piped")" "$(probes <<<"$lock")" \
		"$prof: every probe's outcome, stage and codes identical pipelined and lock-step"
	tap_is "$(jq -r .verdict <<<"$piped")" "$(jq -r .verdict <<<"$lock")" "$prof: same verdict"
	par=$("${A[@]}" -p "$PF_PORT" --per-host 4 127.0.0.1 2>/dev/null)
	tap_is "$(probes <<<"$par")" "$(probes <<<"$lock")" \
		"$prof: --per-host 4 (sessions in parallel, pipelined): identical probe results, DATA checks on the same probes"
	tap_is "$(pf_sink_count)" 0 "$prof: nothing relayed"
	pf_stop
done

# PIPELINING not offered, and enforced: never pipelined to.
PF_MAIN_EXTRA='smtpd_discard_ehlo_keywords = pipelining
smtpd_forbid_unauth_pipelining = yes' pf_start closed >/dev/null || tap_bail "cannot start Postfix"
out=$("${A[@]}" -p "$PF_PORT" 127.0.0.1 2>/dev/null)
tap_check "not offered: no group sent" jq -e '(.pipelining.offered|not) and .pipelining.groups == 0' <<<"$out"
tap_is "$(jq -r .verdict <<<"$out")" closed "not offered: graded closed"
pf_stop

# An unsolicited extra line after a pipelined MAIL reply.
HPORT=$(rg_free_port tcp)
coproc HOST_PROC { exec "$HOSTILE" extra-line "$HPORT" 2>/dev/null; }
rg_cleanup_add "rg_kill_pid $HOST_PROC_PID"
read -r -t 5 line <&"${HOST_PROC[0]}"
[ "$line" = ready ] || tap_bail "hostile_smtpd extra-line did not start"
out=$(timeout 60 "$AUDIT" -p "$HPORT" -d victim.example -t 3 --budget 30 -f json 127.0.0.1 2>/dev/null)
tap_check "extra line: the desync is detected and recorded" jq -e \
	'.pipelining.desync and .pipelining.lockstep_fallback and (.pipelining.note|test("lock-step"))' <<<"$out"
tap_is "$(jq -r .verdict <<<"$out")" closed "extra line: graded closed after the lock-step fallback"
tap_is "$(jq '[.tests[] | select(.outcome == "accepted")] | length' <<<"$out")" 0 \
	"extra line: no probe falsely accepted"
txt=$(timeout 60 "$AUDIT" -p "$HPORT" -d victim.example -t 3 --budget 30 127.0.0.1 2>/dev/null)
tap_like "$txt" "reply stream: out of step" "extra line: the text report says so"
rg_kill_pid "$HOST_PROC_PID"

# Parallel sessions keep the per-target budget: a silent server, --per-host 4.
HPORT=$(rg_free_port tcp)
coproc SILENT_PROC { exec "$HOSTILE" silent "$HPORT" 2>/dev/null; }
rg_cleanup_add "rg_kill_pid $SILENT_PROC_PID"
read -r -t 5 line <&"${SILENT_PROC[0]}"
[ "$line" = ready ] || tap_bail "hostile_smtpd silent did not start"
t0=$(rg_now_ms)
out=$(timeout 60 "$AUDIT" -p "$HPORT" -d victim.example -t 20 --budget 2 --per-host 4 -f json 127.0.0.1 2>/dev/null)
ms=$(( $(rg_now_ms) - t0 ))
tap_check "silent server, --per-host 4 --budget 2: given up after the budget (${ms} ms)" test "$ms" -lt 4000
tap_is "$(jq -r .verdict <<<"$out")" inconclusive "silent server: inconclusive (connected, never greeted: busy, not unreachable)"
tap_done
