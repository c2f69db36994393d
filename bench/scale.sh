#!/bin/bash
# bench/scale.sh - relayguard-audit against nmap's smtp-open-relay at scale,
# on a simulated Internet path, in one invocation.
#
#   BUILD=build bash bench/scale.sh          (root; make bench runs it)
#
# What runs, inside a private network namespace that has only "lo" (nothing
# leaves the machine; the script re-executes itself under unshare -n):
#   - bench/fakemta: N simulated MTAs on 127.10.x.y (mix of open, closed,
#     greylisting, slow; some without PIPELINING, which drop clients that
#     pipeline anyway, as Postfix 3.9 does);
#   - two real Postfix instances (tests/lib/postfix.sh, profiles open and
#     closed) at 127.9.0.1 and 127.9.0.2;
#   - bench/delayproxy on port 25 in front of all of them, adding DELAY_MS
#     each way (default 25: a 50 ms round trip) and the TCP handshake's
#     round trip to the greeting.
# Then, on the same targets:
#   1. one target at a time (fake open, fake closed, Postfix open, Postfix
#      closed): wall time and wall time in round trips, both tools;
#   2. independent servers: all N+2 targets above, relayguard-audit (RG_ARGS,
#      default -j 1000 --per-host 4), nmap with its defaults and with
#      --max-parallelism 256: wall time, targets/s, the ratio, peak RSS, and
#      the agreement of the verdicts (open relay or not) between the tools
#      and with the truth (the map);
#   3. shared backend (SHARED=1): NS target names 127.11.x.y, every one of
#      them served by the ONE open Postfix behind the delay proxy (how a
#      hosting provider looks: many MX names, one cluster), relayguard-audit
#      (RG_ARGS) and nmap --max-parallelism 256.
# For steps 2 and 3 the summary prints, per workload and tool: targets/s,
# the ratio to nmap, sessions per target (relayguard's JSON .sessions; the
# connections the proxy accepted, for both tools), CPU per target (user+sys
# of the tool and its children, /usr/bin/time, over the targets), the
# targets it could not test (unrch: relayguard's unreachable, nmap's hosts
# without a script answer) and the
# slowest target's seconds beside the total wall time with the wall time
# the run would have had without it (last end of the other targets); it says
# "DOMINATED" when that one target is more than half of the tool's time
# (e.g. nmap's error-limit sleep on a closed Postfix).
#
# Environment: N (1000), DELAY_MS (25), MIX ("open:4 closed:4 greylist:1
# slow:1": weights), NOPIPE_EVERY (4: every 4th fake lacks PIPELINING),
# SLOW_MS (100), RG_ARGS (-j 1000 --per-host 4 -f jsonl), SEQ_ARGS (the
# sequential engine: -j 256 --per-host 1 --no-pipelining -f jsonl; its
# verdicts must equal RG_ARGS's), SEQ=0 skips that run, NMAP=0 skips nmap,
# NMAP_DEFAULT=0 only nmap's default setting (slow: minutes for 1000),
# PF=0 skips the two Postfix targets of steps 1-2, SINGLE=0 skips step 1,
# INDEP=0 skips step 2, SHARED=0 skips step 3, NS (N: the shared workload's
# target names, at most 64000), BASE_AUDIT=PATH (another relayguard-audit,
# e.g. main's build, run beside this one with RG_ARGS in steps 2 and 3: a
# before/after in one invocation), KEEP=DIR keeps outputs there, PERF=FILE
# records relayguard's independent run with perf (call graphs; its CPU
# figures then include perf's own cost): perf report -i FILE.
set -u
if [ -z "${RG_BENCH_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
		echo "bench/scale.sh: needs root and unshare -n (private network namespace)" >&2
		exit 2
	fi
	export RG_BENCH_NETNS=1
	exec unshare -n -- bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
N=${N:-1000}
DELAY_MS=${DELAY_MS:-25}
MIX=${MIX:-open:4 closed:4 greylist:1 slow:1}
NOPIPE_EVERY=${NOPIPE_EVERY:-4}
SLOW_MS=${SLOW_MS:-100}
RG_ARGS=${RG_ARGS:--j 1000 --per-host 4 -f jsonl}
SEQ_ARGS=${SEQ_ARGS:--j 256 --per-host 1 --no-pipelining -f jsonl}
SEQ=${SEQ:-1}
NMAP=${NMAP:-1}
NMAP_DEFAULT=${NMAP_DEFAULT:-1}
PF=${PF:-1}
SINGLE=${SINGLE:-1}
INDEP=${INDEP:-1}
SHARED=${SHARED:-1}
NS=${NS:-$N}
export TZ=UTC	# relayguard's .start, read back as UTC below
AUDIT=$BUILD/relayguard-audit
RTT=$(printf '%.3f' "$(echo "2 * $DELAY_MS / 1000" | bc -l)")
command -v nmap >/dev/null || NMAP=0
for b in "$AUDIT" "$BUILD/bench/fakemta" "$BUILD/bench/delayproxy"; do
	[ -x "$b" ] || { echo "bench/scale.sh: $b missing (make bench)" >&2; exit 2; }
done
W=${KEEP:-$(mktemp -d /tmp/rg-scale.XXXXXX)}
mkdir -p "$W"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
source tests/lib/postfix.sh
rg_cleanup_add cleanup

# --- the targets: map file (ADDR KIND[,nopipe]) and truth
read -r -a mixw <<<"$MIX"
kinds=()
for kw in "${mixw[@]}"; do
	for _ in $(seq "${kw#*:}"); do kinds+=("${kw%%:*}"); done
done
: >"$W/map"
for i in $(seq 0 $((N - 1))); do
	k=${kinds[$((i % ${#kinds[@]}))]}
	flag=
	[ "$NOPIPE_EVERY" -gt 0 ] && [ $((i % NOPIPE_EVERY)) -eq $((NOPIPE_EVERY - 1)) ] && flag=,nopipe
	echo "127.10.$((i / 250)).$((i % 250 + 1)) $k$flag"
done >"$W/map"
awk '{print $1}' "$W/map" >"$W/targets"
awk '{split($2,k,","); print $1, k[1]}' "$W/map" >"$W/truth"

"$BUILD/bench/fakemta" -p 2600 -m "$W/map" -w "$SLOW_MS" >"$W/fakemta.out" 2>"$W/fakemta.err" &
PIDS+=($!)
proxy_maps=()
if [ "$PF" = 1 ] || [ "$SHARED" = 1 ]; then
	pf_start open >/dev/null || { echo "cannot start Postfix (open)" >&2; exit 1; }
	proxy_maps+=(-m "127.9.0.1=127.0.0.1:$PF_PORT" -m "127.11.0.0/16=127.0.0.1:$PF_PORT")
fi
if [ "$PF" = 1 ]; then
	pf_start closed >/dev/null || { echo "cannot start Postfix (closed)" >&2; exit 1; }
	proxy_maps+=(-m "127.9.0.2=127.0.0.1:$PF_PORT")
	printf '127.9.0.1\n127.9.0.2\n' >>"$W/targets"
	printf '127.9.0.1 pf-open\n127.9.0.2 pf-closed\n' >>"$W/truth"
fi
"$BUILD/bench/delayproxy" -p 25 -b 2600 -d "$DELAY_MS" -s 127.0.0.2 "${proxy_maps[@]}" \
	>"$W/proxy.out" 2>"$W/proxy.err" &
PROXY_PID=$!
PIDS+=($!)
for _ in $(seq 50); do
	[ -s "$W/fakemta.out" ] && [ -s "$W/proxy.out" ] && break
	sleep 0.1
done
NT=$(wc -l <"$W/targets")
for i in $(seq 0 $((NS - 1))); do
	echo "127.11.$((i / 250)).$((i % 250 + 1))"
done >"$W/shared.targets"

now() { date +%s.%N; }
# proxy_counts NAME: the proxy's connection counts since the last call
# ("conn ADDR N" lines) to $W/NAME.conns (SIGUSR1; see bench/delayproxy.c)
proxy_counts() {
	local before
	before=$(grep -c '^end$' "$W/proxy.out")
	kill -USR1 "$PROXY_PID" || return 1
	for _ in $(seq 100); do
		[ "$(grep -c '^end$' "$W/proxy.out")" -gt "$before" ] && break
		sleep 0.05
	done
	awk -v n="$before" '/^end$/ {e++; next} e == n && /^conn / {print $2, $3}' \
		"$W/proxy.out" >"$W/$1.conns"
}
# run NAME CMD...: stdout to $W/NAME.out, wall seconds to $W/NAME.wall, peak
# RSS (KB) to $W/NAME.rss, user+sys seconds to $W/NAME.cpu, the proxy's
# connections to $W/NAME.conns
run() {
	local name=$1 t0 t1
	shift
	proxy_counts "$name.before"
	local pre=()
	[ -n "${PERF:-}" ] && [ "$name" = all-rg ] && pre=(perf record -q -g -o "$PERF" --)
	t0=$(now)
	/usr/bin/time -f '%M %U %S' -o "$W/$name.time" "${pre[@]}" "$@" >"$W/$name.out" \
		2>"$W/$name.err"
	t1=$(now)
	echo "$t1 - $t0" | bc -l >"$W/$name.wall"
	proxy_counts "$name"
	tail -1 "$W/$name.time" | awk '{print $1}' >"$W/$name.rss"
	tail -1 "$W/$name.time" | awk '{print $2 + $3}' >"$W/$name.cpu"
}
wall() { cat "$W/$1.wall"; }
NMAP_ARGS=(-Pn -n -p 25 --script smtp-open-relay --script-args smtp-open-relay.domain=victim.example)
# shellcheck disable=SC2206
RG=("$AUDIT" -p 25 -d victim.example -f json $RG_ARGS)
# rg_verdicts NAME -> "ADDR VERDICT" lines;  nmap_verdicts NAME -> "ADDR open|not|none"
rg_verdicts() { jq -r '"\(.target) \(.verdict)"' "$W/$1.out" 2>/dev/null | sort; }
nmap_verdicts() {
	awk '/^Nmap scan report for/ {h=$5; v[h]="none"}
	     /smtp-open-relay: Server is an open relay/ {v[h]="open"}
	     /smtp-open-relay: Server doesn.t seem/ {v[h]="not"}
	     END {for (h in v) print h, v[h]}' "$W/$1.out" | sort
}

pfs="no real Postfix"
[ "$PF" = 1 ] && pfs="2 real Postfix"
echo "# relayguard scale bench: $NT targets ($N simulated: $MIX, every ${NOPIPE_EVERY}th without" \
	"PIPELINING; $pfs), ${DELAY_MS} ms each way (RTT $RTT s), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "# relayguard (pipelined): ${RG[*]}"
[ "$SEQ" = 1 ] && echo "# relayguard (lock-step): $AUDIT -p 25 -d victim.example $SEQ_ARGS"
echo "# nmap: nmap ${NMAP_ARGS[*]} [--max-parallelism 256]"

if [ "$SINGLE" = 1 ]; then
	echo
	printf '%-12s %-18s %8s %7s  %s\n' target tool "wall s" RTTs verdict
	singles=("127.10.0.1 fake-open")
	c=$(awk '$2 ~ /^closed/ {print $1; exit}' "$W/map")
	[ -n "$c" ] && singles+=("$c fake-closed")
	[ "$PF" = 1 ] && singles+=("127.9.0.1 pf-open" "127.9.0.2 pf-closed")
	for s in "${singles[@]}"; do
		read -r ip label <<<"$s"
		run "one-rg-$label" "${RG[@]}" "$ip"
		printf '%-12s %-18s %8.2f %7.0f  %s\n' "$label" relayguard-audit "$(wall "one-rg-$label")" \
			"$(echo "$(wall "one-rg-$label") / $RTT" | bc -l)" \
			"$(jq -r '"\(.verdict) (\(.sessions) sessions)"' "$W/one-rg-$label.out")"
		if [ "$NMAP" = 1 ]; then
			run "one-nm-$label" nmap "${NMAP_ARGS[@]}" "$ip"
			printf '%-12s %-18s %8.2f %7.0f  %s\n' "$label" "nmap" "$(wall "one-nm-$label")" \
				"$(echo "$(wall "one-nm-$label") / $RTT" | bc -l)" \
				"$(nmap_verdicts "one-nm-$label" | awk '{print $2}')"
		fi
	done
fi

# slowest NAME -> "ADDR SECONDS WITHOUT": the slowest target, its seconds, and
# the run's wall time without it (from the first start to the last end of
# the other targets); relayguard from its JSON, nmap from its XML output
slowest() {
	if [ -f "$W/$1.xml" ]; then
		awk '/<host / {s = e = a = ""
			if (match($0, /starttime="[0-9]+"/)) s = substr($0, RSTART + 11, RLENGTH - 12)
			if (match($0, /endtime="[0-9]+"/)) e = substr($0, RSTART + 9, RLENGTH - 10)}
		     /<address addr=/ && s != "" {match($0, /addr="[^"]+"/); a = substr($0, RSTART + 6, RLENGTH - 7)
			print a, s, e; s = ""}' "$W/$1.xml"
	else
		jq -r '"\(.target) \((.start[0:19] + "Z" | fromdateiso8601) + (.start[20:23] | tonumber) / 1000) \((.start[0:19] + "Z" | fromdateiso8601) + (.start[20:23] | tonumber) / 1000 + .elapsed_seconds)"' \
			"$W/$1.out" 2>/dev/null
	fi | awk 'NR == 1 || $2 < t0 {t0 = $2}
		{a[NR] = $1; e[NR] = $3; d = $3 - $2; if (NR == 1 || d > dm) {dm = d; im = NR}}
		END {if (!NR) exit; for (i = 1; i <= NR; i++) if (i != im && e[i] > last) last = e[i]
		     if (last == "") last = t0; printf "%s %.1f %.1f\n", a[im], dm, last - t0}'
}
# sessions NAME NTARGETS -> "JSON_MEAN PROXY_MEAN" (- where none)
sessions() {
	local js=-
	case $1 in *-rg*)
		js=$(jq -rs 'if length > 0 then (map(.sessions) | add / length * 10 | round / 10)
			else "-" end' "$W/$1.out" 2>/dev/null) ;;
	esac
	printf '%s %s' "${js:--}" "$(awk -v n="$2" '{c += $2} END {printf "%.1f", c / n}' "$W/$1.conns")"
}
# targets a run could not test: relayguard's unreachable, nmap's hosts without
# a script answer
unreached() {
	case $1 in
	*-nm-*) nmap_verdicts "$1" | awk '$2 == "none"' | wc -l ;;
	*) jq -r .verdict "$W/$1.out" 2>/dev/null | grep -c '^unreachable$' ;;
	esac
}
# summary WORKLOAD NTARGETS RUN...: one line per run of the workload
summary() {
	local wl=$1 nt=$2 r best='' ts label ratio sl ss
	shift 2
	for r in "$@"; do
		case $r in *-nm-*) ;; *) continue ;; esac
		[ -f "$W/$r.wall" ] || continue
		ts=$(echo "$nt / $(wall "$r")" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$ts > $best" | bc -l)" = 1 ]; then best=$ts; fi
	done
	for r in "$@"; do
		[ -f "$W/$r.wall" ] || continue
		case $r in
		*-nm-default) label="nmap (defaults)" ;;
		*-nm-256) label="nmap --max-parallelism 256" ;;
		*-rg-seq) label="relayguard-audit (lock-step)" ;;
		*-rg-base) label="BASE_AUDIT (pipelined)" ;;
		*) label="relayguard-audit (pipelined)" ;;
		esac
		ts=$(echo "$nt / $(wall "$r")" | bc -l)
		ratio=-
		[ -n "$best" ] && ratio=$(printf '%.2fx' "$(echo "$ts / $best" | bc -l)")
		read -r -a sl <<<"$(slowest "$r")"
		read -r -a ss <<<"$(sessions "$r" "$nt")"
		# one target dominates when the others were all done before half the time
		printf '%-12s %-29s %7.1f %9.1f %7s %6.1f %9s %5s %5s %7.2f  %s %ss, %.1f s without it%s\n' \
			"$wl" "$label" "$(wall "$r")" "$ts" "$ratio" \
			"$(echo "$(cat "$W/$r.rss") / 1024" | bc -l)" "${ss[0]}" "${ss[1]}" \
			"$(unreached "$r")" \
			"$(echo "$(cat "$W/$r.cpu") * 1000 / $nt" | bc -l)" \
			"${sl[0]:--}" "${sl[1]:--}" "${sl[2]:-0}" \
			"$( [ -n "${sl[2]:-}" ] && [ "$(echo "${sl[2]} * 2 < $(wall "$r")" | bc -l)" = 1 ] &&
				echo "  <- DOMINATED by one slow target")"
	done
}

echo
if [ "$INDEP" = 1 ]; then
	# shellcheck disable=SC2046
	run all-rg "${RG[@]}" $(cat "$W/targets")
	# shellcheck disable=SC2046
	[ -n "${BASE_AUDIT:-}" ] && run all-rg-base "$BASE_AUDIT" "${RG[@]:1}" $(cat "$W/targets")
	if [ "$SEQ" = 1 ]; then
		# shellcheck disable=SC2046,SC2086
		run all-rg-seq "$AUDIT" -p 25 -d victim.example $SEQ_ARGS $(cat "$W/targets")
	fi
	if [ "$NMAP" = 1 ]; then
		# shellcheck disable=SC2046
		[ "$NMAP_DEFAULT" = 1 ] && run all-nm-default nmap "${NMAP_ARGS[@]}" \
			-oX "$W/all-nm-default.xml" $(cat "$W/targets")
		# shellcheck disable=SC2046
		run all-nm-256 nmap "${NMAP_ARGS[@]}" --max-parallelism 256 -oX "$W/all-nm-256.xml" \
			$(cat "$W/targets")
	fi
fi
if [ "$SHARED" = 1 ]; then
	# shellcheck disable=SC2046
	run sh-rg "${RG[@]}" $(cat "$W/shared.targets")
	# shellcheck disable=SC2046
	[ -n "${BASE_AUDIT:-}" ] && run sh-rg-base "$BASE_AUDIT" "${RG[@]:1}" $(cat "$W/shared.targets")
	# shellcheck disable=SC2046
	[ "$NMAP" = 1 ] && run sh-nm-256 nmap "${NMAP_ARGS[@]}" --max-parallelism 256 \
		-oX "$W/sh-nm-256.xml" $(cat "$W/shared.targets")
fi
printf '%-12s %-29s %7s %9s %7s %6s %9s %5s %5s %7s  %s\n' workload tool "wall s" targets/s \
	"vs nmap" "RSS MB" "sess:json" proxy unrch "CPU ms" "slowest target, its seconds"
[ "$INDEP" = 1 ] && summary independent "$NT" all-nm-default all-nm-256 all-rg-seq all-rg-base all-rg
[ "$SHARED" = 1 ] && summary shared "$NS" sh-nm-256 sh-rg-base sh-rg
echo "($( [ "$INDEP" = 1 ] && printf 'independent: %s targets, each its own server; ' "$NT")$(
	[ "$SHARED" = 1 ] && printf 'shared: %s target names, one open Postfix;' "$NS")"
echo " vs nmap: targets/s over nmap's best setting in this run; sess: sessions per target from"
echo " relayguard's JSON and connections per target the proxy accepted; unrch: targets not tested"
echo " (relayguard: unreachable; nmap: no script answer); CPU ms: user+sys per target)"
if [ "$SHARED" = 1 ]; then
	echo "shared backend verdicts (all open): relayguard open_relay on" \
		"$(jq -r .verdict "$W/sh-rg.out" 2>/dev/null | grep -c '^open_relay$')/$NS$(
		[ -n "${BASE_AUDIT:-}" ] && printf ', BASE_AUDIT on %s/%s' \
			"$(jq -r .verdict "$W/sh-rg-base.out" 2>/dev/null | grep -c '^open_relay$')" "$NS")$(
		[ "$NMAP" = 1 ] && printf ', nmap open relay on %s/%s' \
			"$(nmap_verdicts sh-nm-256 | awk '$2 == "open"' | wc -l)" "$NS")"
fi
[ "$INDEP" = 1 ] || exit 0

# per-target wall time in round trips (relayguard's own elapsed_seconds)
jq -r '.elapsed_seconds' "$W/all-rg.out" | sort -n | awk -v rtt="$RTT" \
	'{a[NR]=$1} END {if (NR) printf "relayguard per-target wall time: median %.2f s = %.0f RTTs, max %.2f s\n",
	 a[int((NR+1)/2)], a[int((NR+1)/2)]/rtt, a[NR]}'

# agreement
rg_verdicts all-rg >"$W/v.rg"
if [ "$SEQ" = 1 ]; then
	rg_verdicts all-rg-seq >"$W/v.seq"
	echo "same verdict as the lock-step engine: $(join "$W/v.rg" "$W/v.seq" | awk '$2 == $3' | wc -l)/$NT"
fi
echo
echo "verdicts by kind (truth from the map):"
if [ "$NMAP" = 1 ]; then
	nmap_verdicts all-nm-256 >"$W/v.nm"
else
	awk '{print $1, "-"}' "$W/truth" | sort >"$W/v.nm"
fi
sort "$W/truth" | join - "$W/v.rg" | join - "$W/v.nm" >"$W/v.all"
awk '{k[$2]++; r[$2" "$3]++; n[$2" "$4]++}
     END {for (x in k) {printf "  %-12s %5d  relayguard:", x, k[x];
	  for (y in r) if (index(y, x" ") == 1) printf " %s=%d", substr(y, length(x)+2), r[y];
	  printf "  nmap:";
	  for (y in n) if (index(y, x" ") == 1) printf " %s=%d", substr(y, length(x)+2), n[y];
	  printf "\n"}}' "$W/v.all" | sort
awk -v nm="$NMAP" '{rgopen = $3 == "open_relay"; nmopen = $4 == "open"
	want = ($2 == "open" || $2 == "pf-open")
	ok_rg += (rgopen == want); if (nm == 1) {ok_nm += (nmopen == want); agree += (rgopen == nmopen)}}
     END {printf "open relay or not: relayguard right on %d/%d", ok_rg, NR
	  if (nm == 1) printf ", nmap right on %d/%d, the tools agree on %d/%d", ok_nm, NR, agree, NR
	  printf "\n"}' "$W/v.all"
missing=$((NT - $(wc -l <"$W/v.all")))
[ "$missing" -gt 0 ] && echo "WARNING: $missing targets missing from an output (see $W)"
exit 0
