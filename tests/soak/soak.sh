#!/bin/bash
# tests/soak/soak.sh - make soak: reliability of relayguard-milter under load
# and faults, measured. Not part of make check (minutes of run time).
#
# A real Postfix (profile "open": mynetworks = 0.0.0.0/0, so the milter is
# the only relay guard) with smtpd_milters = the milter in Mode enforce and
# milter_default_action = tempfail. tests/soak/client.py sends
# SOAK_MESSAGES messages (default 20000) per phase from a trusted
# (127.0.0.1) and an untrusted (127.0.0.2) source, to a local mailbox and to
# remote recipients (relayed to smtp-sink), and records every outcome.
# Phase "clean": nothing else happens. Phase "faults": the milter is
# SIGKILLed and restarted SOAK_KILLS times (default 5) while mail flows.
# After each phase the queue must drain; every message is then looked up
# by its X-Soak-Id at its destination (maildir or smtp-sink).
#
# Prints per phase: sent, delivered, refused, tempfailed, lost (accepted
# but never arrived), wrongly relayed (untrusted -> remote accepted or
# arrived at the sink), and the milter's RSS at the start and end of the
# phase. Exit status 1 when lost or wrongly relayed is not 0, or when a
# message had an unexpected outcome (a trusted or local message refused,
# an untrusted remote one accepted) or a clean-phase message tempfailed.
#
# Runs in a private network namespace (unshare -n, loopback only) as root,
# like tests/run. Environment: BUILD, SOAK_MESSAGES, SOAK_KILLS,
# SOAK_WORKERS, SOAK_MODE (default enforce; log-only shows the check failing),
# RG_KEEP=1 (keep the temp dirs).
if [ "${RG_NETNS:-1}" = 1 ] && [ -z "${RG_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
	command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
	export RG_IN_NETNS=1
	exec unshare -n -- bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD
N=${SOAK_MESSAGES:-20000}
KILLS=${SOAK_KILLS:-5}
WORKERS=${SOAK_WORKERS:-6}
source tests/lib/postfix.sh
source tests/milter/lib.sh
[ -x "$MILTER" ] || rg_die "$MILTER not built (make first)"

rss() { ps -o rss= -p "$1" 2>/dev/null | tr -d ' ' || echo 0; }

ml_start "Mode ${SOAK_MODE:-enforce}" || rg_die "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
smtpd_soft_error_limit = 100000
smtpd_hard_error_limit = 100000
smtpd_error_sleep_time = 0
smtpd_client_connection_count_limit = 0
default_process_limit = 50" pf_start open || rg_die "cannot start Postfix"
SOAK_DIR=$(mktemp -d /tmp/rg-soak.XXXXXX) || exit 1
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$SOAK_DIR'"

restart_milter() {
	rg_spawn "$ML_DIR/milter.log.$1" "$MILTER" -f -c "$ML_DIR/relayguard.conf"
	ML_PID=$RG_SPAWN_PID
	rg_retry 10 test -S "$ML_SOCK"
}

# Ids found at a destination: maildir files or smtp-sink files.
ids_in() { grep -rhoa '^X-Soak-Id: [0-9]*' "$@" 2>/dev/null | awk '{print $2}' | sort -n -u; }

status=0
rows=()
run_phase() {	# NAME FIRST_ID
	local name=$1 base=$2 res="$SOAK_DIR/$1.results" t0 t1 rss0 rss1 cpid k
	rss0=$(rss "$ML_PID")
	t0=$(date +%s.%N)
	python3 tests/soak/client.py --port "$PF_PORT" --count "$N" --workers "$WORKERS" \
		--base "$base" --out "$res" >"$SOAK_DIR/$name.client.log" 2>&1 &
	cpid=$!
	if [ "$name" = faults ]; then
		for k in $(seq "$KILLS"); do
			sleep "$FAULT_GAP"
			kill -KILL "$ML_PID" 2>/dev/null
			wait "$ML_PID" 2>/dev/null
			echo "# $(date +%T) milter SIGKILLed ($k/$KILLS), restarting"
			sleep 1
			restart_milter "$k" || { echo "# milter did not restart"; status=1; }
		done
	fi
	wait "$cpid" || { echo "# client failed: $(tail -5 "$SOAK_DIR/$name.client.log")"; status=1; }
	t1=$(date +%s.%N)
	PHASE_SECS=$(echo "$t1 - $t0" | bc -l)
	pf_flush
	pf_wait_queue_empty 300 || { echo "# queue did not drain: $(pf_queue_count) left"; status=1; }
	sleep 1
	rss1=$(rss "$ML_PID")
	ids_in "$PF_MAIL_DIR/root" >"$SOAK_DIR/local.ids"
	ids_in "$PF_SINK_DIR" >"$SOAK_DIR/sink.ids"
	python3 - "$res" "$SOAK_DIR/local.ids" "$SOAK_DIR/sink.ids" "$name" "$rss0" "$rss1" \
		"$PHASE_SECS" "$base" "$N" >"$SOAK_DIR/$name.row" <<'PY'
import sys
res, lids, sids, name, rss0, rss1, secs, base, n = sys.argv[1:]
base, n = int(base), int(n)
local = {int(x) for x in open(lids).read().split()}
sink = {int(x) for x in open(sids).read().split()}
rows = [l.split() for l in open(res) if l.strip()]
sent = len(rows)
acc = ref = tmp = lost = wrong = delivered = unexpected = 0
for i, src, kind, outcome, code, stage in rows:
    i = int(i)
    arrived = i in (local if kind == "local" else sink)
    if outcome == "accepted":
        acc += 1
        if arrived:
            delivered += 1
        else:
            lost += 1
    elif outcome == "refused":
        ref += 1
    else:
        tmp += 1
    if src == "untrusted" and kind == "remote":
        if outcome == "accepted" or i in sink:
            wrong += 1
    elif outcome == "refused":
        unexpected += 1	# legitimate mail refused
    if name == "clean" and outcome == "tempfailed":
        unexpected += 1
missing = n - sent
print(name, sent, delivered, ref, tmp, lost, wrong, rss0, rss1, "%.0f" % float(secs),
      unexpected, missing)
PY
	rows+=("$(cat "$SOAK_DIR/$name.row")")
}

FAULT_GAP=0
run_phase clean 0
clean_secs=${PHASE_SECS%.*}
# spread the kills over the faults phase (about as long as the clean one)
FAULT_GAP=$(echo "g=$clean_secs / ($KILLS + 1); if (g < 2) g = 2; g" | bc)
run_phase faults "$N"

printf '\n%-7s %7s %9s %7s %10s %5s %15s %10s %10s %7s\n' phase sent delivered refused \
	tempfailed lost "wrongly relayed" "RSS start" "RSS end" seconds
for r in "${rows[@]}"; do
	read -r name sent del ref tmp lost wrong rss0 rss1 secs unexpected missing <<<"$r"
	printf '%-7s %7s %9s %7s %10s %5s %15s %8s KB %8s KB %7s\n' "$name" "$sent" "$del" "$ref" \
		"$tmp" "$lost" "$wrong" "$rss0" "$rss1" "$secs"
	[ "$lost" = 0 ] && [ "$wrong" = 0 ] || status=1
	[ "$unexpected" = 0 ] || { echo "# $name: $unexpected messages with an unexpected outcome"; status=1; }
	[ "$missing" = 0 ] || { echo "# $name: $missing messages not sent"; status=1; }
done
echo "# milter: $(grep -c . "$ML_DIR/events.jsonl" 2>/dev/null) event lines;" \
	"postfix: $(pf_log_count 'milter.*(Connection refused|No such file|unavailable|timeout)') log lines about milter failures"
[ $status = 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit $status
