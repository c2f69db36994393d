#!/bin/bash
# bench/milter.sh - what a milter costs a real Postfix, against the floor.
#
# One private Postfix (tests/lib/postfix.sh, profile open, relayhost an
# smtp-sink) takes MSGS messages from smtp-source (SESS sessions in
# parallel, sender user@bench.test, recipient user@victim.example) per case
# and round; the cases run interleaved for ROUNDS rounds, each behind its
# own inet milter socket (milter_protocol 6):
#   none       no milter
#   floor      bench/floormilter.c: answers RCPT, accepts at DATA
#   relay      relayguard-milter, relay policy only (BounceSensor no)
#   all        relayguard-milter, bounce sensor + SPF (NSD on loopback
#              serves bench.test), default SPFHeader received-spf
#   all-nohdr  the same with SPFHeader none
#   opendkim   skipped with a note: OpenDKIM is not installed by make deps
# Prints medians over rounds: messages/s and the milter's CPU per message
# (utime+stime from /proc/PID/stat), each with its ratio to the floor.
#
# Then the shared-state case (issue 20): relay decisions per second and
# per-decision latency (p50, p99, max at the MTA's side of the protocol,
# bench/milterload.py) of relayguard-milter with the penalty box counted
# on a local redis-server (started here on a free loopback port, stopped
# by PID) against the same config without SharedState, interleaved.
#
#   BUILD=build bash bench/milter.sh   (ROUNDS=4 MSGS=1000 SESS=10
#                                       DECISIONS=2000 MAXSECS=300
#                                       ONLY=floor|shared: one half;
#                                       MILTER_B=other/relayguard-milter:
#                                       relay-b, all-b, all-nohdr-b run
#                                       that binary in the same rounds)
# Needs root (Postfix), smtp-source, nsd, redis-server. Loopback only.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-4}
MSGS=${MSGS:-1000}
SESS=${SESS:-10}
DECISIONS=${DECISIONS:-2000}
MAXSECS=${MAXSECS:-300}		# per smtp-source or milterload run
ONLY=${ONLY:-}
MILTER=${MILTER:-$BUILD/relayguard-milter}
FLOOR=$BUILD/bench/floormilter
source tests/lib/postfix.sh
source tests/lib/dns.sh

for t in smtp-source nsd redis-server python3 "$MILTER" "$FLOOR"; do
	command -v "$t" >/dev/null || { echo "bench/milter.sh: $t not found (make all; make deps)"; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/rg-milterbench.XXXXXX") || exit 1
chmod 755 "$W"
rg_cleanup_add "rm -rf '$W'"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

cat >"$W/bench.test.zone" <<'EOF_ZONE'
$ORIGIN bench.test.
$TTL 300
@	IN SOA	ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 60
@	IN NS	ns.bench.test.
ns	IN A	127.0.0.1
@	IN TXT	"v=spf1 ip4:127.0.0.0/8 -all"
EOF_ZONE
dns_start "$W/bench.test.zone" || { echo "cannot start NSD"; exit 1; }

MILTER_B=${MILTER_B:-}
# start_milter NAME CONFIG-LINES [BINARY]: relayguard-milter on a free inet port
declare -A PORT PID
start_milter() {
	local port
	port=$(rg_free_port tcp) || exit 1
	cat >"$W/$1.conf" <<EOF_CONF
Socket inet:$port@127.0.0.1
EventLog $W/$1.events.jsonl
TrustedNetworks 10.0.0.0/8
LocalDomains victim.example, site.example
$2
EOF_CONF
	rg_spawn "$W/$1.log" "${3:-$MILTER}" -f -c "$W/$1.conf"
	PID[$1]=$RG_SPAWN_PID PORT[$1]=$port
	rg_wait_port 127.0.0.1 "$port" 10 || { echo "milter $1 did not start:"; cat "$W/$1.log"; exit 1; }
}

# stop_milters NAME...: SIGTERM to all at once, then wait (libmilter's
# orderly stop notices within its 5 s listener timeout)
stop_milters() {
	local c
	for c in "$@"; do kill -TERM "${PID[$c]}" 2>/dev/null; done
	for c in "$@"; do rg_kill_pid "${PID[$c]}" 15; done
}

if [ "$ONLY" != shared ]; then
SPF="Nameservers $DNS_NS
SPF yes"
CASES=(none floor relay all all-nohdr)
PORT[floor]=$(rg_free_port tcp) || exit 1
rg_spawn "$W/floor.log" "$FLOOR" "inet:${PORT[floor]}@127.0.0.1"
PID[floor]=$RG_SPAWN_PID
rg_wait_port 127.0.0.1 "${PORT[floor]}" 10 || { echo "floormilter did not start"; exit 1; }
start_milter relay "BounceSensor no"
start_milter all "$SPF"
start_milter all-nohdr "$SPF
SPFHeader none"
if [ -n "$MILTER_B" ]; then
	CASES+=(relay-b all-b all-nohdr-b)
	start_milter relay-b "BounceSensor no" "$MILTER_B"
	start_milter all-b "$SPF" "$MILTER_B"
	start_milter all-nohdr-b "$SPF
SPFHeader none" "$MILTER_B"
fi
command -v opendkim >/dev/null ||
	echo "# opendkim: not installed (make deps does not install it): case skipped"

PF_MAIN_EXTRA="milter_protocol = 6
milter_default_action = tempfail
milter_command_timeout = 30s
smtpd_milters =" pf_start open >/dev/null || { echo "cannot start Postfix"; exit 1; }

declare -A RATE CPU
for round in $(seq "$ROUNDS"); do
	for c in "${CASES[@]}"; do
		if [ "$c" = none ]; then
			pf_postconf "smtpd_milters =" || exit 1
		else
			pf_postconf "smtpd_milters = inet:127.0.0.1:${PORT[$c]}" || exit 1
		fi
		pf_wait_queue_empty 120 || echo "# round $round $c: queue not empty after 120 s"
		c0=0; [ "$c" != none ] && c0=$(cpu_ticks "${PID[$c]}")
		t0=$(rg_now_ms)
		timeout "$MAXSECS" smtp-source -s "$SESS" -m "$MSGS" -M bench.test \
			-f user@bench.test -t user@victim.example "127.0.0.1:$PF_PORT" \
			>"$W/source.log" 2>&1 || { echo "# round $round $c: smtp-source failed:"; tail -3 "$W/source.log"; }
		t1=$(rg_now_ms)
		c1=0; [ "$c" != none ] && c1=$(cpu_ticks "${PID[$c]}")
		RATE[$c]+="$(echo "$MSGS * 1000 / ($t1 - $t0)" | bc -l) "
		CPU[$c]+="$(echo "($c1 - $c0) * 1000 / $TCK / $MSGS" | bc -l) "
	done
done
pf_wait_queue_empty 120 >/dev/null
refused=$(grep -c 'milter-reject' "$PF_LOG")
pf_stop

printf '# %s rounds x %s messages per case, %s sessions in parallel; medians\n' "$ROUNDS" "$MSGS" "$SESS"
printf '%-12s %10s %8s %16s %8s\n' case "msgs/s" "x floor" "milter ms/msg" "x floor"
fr=$(printf '%s\n' ${RATE[floor]} | median)
fc=$(printf '%s\n' ${CPU[floor]} | median)
for c in "${CASES[@]}"; do
	r=$(printf '%s\n' ${RATE[$c]} | median)
	u=$(printf '%s\n' ${CPU[$c]} | median)
	if [ "$c" = none ]; then
		printf '%-12s %10.0f %8.2f %16s %8s\n' "$c" "$r" "$(echo "$r / $fr" | bc -l)" - -
	else
		printf '%-12s %10.0f %8.2f %16.3f %8.2f\n' "$c" "$r" "$(echo "$r / $fr" | bc -l)" \
			"$u" "$(echo "$u / $fc" | bc -l)"
	fi
done
[ "$refused" -eq 0 ] || echo "# warning: Postfix logged $refused milter rejects (see the configs in $W)"
stop_milters "${CASES[@]:1}"
fi

# --- shared state on Redis vs local, same run --------------------------------
[ "$ONLY" = floor ] && exit 0
R_PORT=$(rg_free_port tcp) || exit 1
rg_spawn "$W/redis.log" redis-server --port "$R_PORT" --bind 127.0.0.1 --save '' \
	--appendonly no --dir "$W"
R_PID=$RG_SPAWN_PID
rg_wait_port 127.0.0.1 "$R_PORT" 10 || { echo "redis-server did not start"; cat "$W/redis.log"; exit 1; }
BOX="AbuserThreshold 1000000
AbuserWindow 60
BounceSensor no"
start_milter local "$BOX"
start_milter redis "$BOX
SharedState redis://127.0.0.1:$R_PORT/0"
declare -A DPS P50 P99 MAX
for round in $(seq "$ROUNDS"); do
	for c in local redis; do
		out=$(timeout "$MAXSECS" python3 bench/milterload.py --socket "inet:${PORT[$c]}@127.0.0.1" \
			--sessions $((DECISIONS / 2)) --seconds "$MAXSECS") || { echo "# milterload ($c): $out"; continue; }
		read -r _ _ _ _ _ dps _ p50 _ p99 _ mx _ <<<"$out"
		DPS[$c]+="$dps " P50[$c]+="$p50 " P99[$c]+="$p99 " MAX[$c]+="$mx "
	done
done
printf '# shared state: %s rounds x %s decisions (a refused relay attempt and a local recipient per session, 200 clients); medians\n' \
	"$ROUNDS" "$DECISIONS"
printf '%-14s %12s %8s %8s %8s\n' state "decisions/s" "p50 ms" "p99 ms" "max ms"
for c in local redis; do
	printf '%-14s %12.0f %8.3f %8.3f %8.3f\n' "$c" "$(printf '%s\n' ${DPS[$c]} | median)" \
		"$(printf '%s\n' ${P50[$c]} | median)" "$(printf '%s\n' ${P99[$c]} | median)" \
		"$(printf '%s\n' ${MAX[$c]} | sort -g | tail -n 1)"
done
lp=$(printf '%s\n' ${P50[local]} | median) rp=$(printf '%s\n' ${P50[redis]} | median)
printf 'p50 overhead of SharedState: %+.0f%%; the deadline (SharedStateTimeout) is %s\n' \
	"$(echo "($rp - $lp) * 100 / $lp" | bc -l)" "$("$MILTER" -d 2>/dev/null | awk '$1=="SharedStateTimeout"{print $2 " s"}')"
grep -h 'shared_state_lost' "$W/redis.log" "$W"/*.log 2>/dev/null | head -n 1
stop_milters local redis
rg_kill_pid "$R_PID"
