# tests/lib/common.sh - generic helpers for relayguard's integration tests.
#
# Sourced (bash only) by tests/lib/postfix.sh, integration scripts and the demo.
# Sourcing it twice is harmless.
#
#   rg_cleanup_add CMD...     register a command to run when the sourcing script
#                             exits (EXIT, or INT/TERM/HUP which are turned into an
#                             exit). Cleanups run last-registered first, each once,
#                             and a failing cleanup does not stop the others. An
#                             EXIT trap that existed before sourcing is kept and
#                             runs after all registered cleanups.
#   rg_free_port [tcp|udp|both]
#                             print a loopback port in 20000-32767 (below the
#                             kernel's ephemeral range) that nothing listens on
#                             (default: neither TCP nor UDP). The port is reserved
#                             in $RG_PORT_DIR (default /tmp/relayguard-ports) until
#                             this shell exits, so parallel tests never get the
#                             same port. This matters: Postfix and smtp-sink bind
#                             with SO_REUSEPORT, so two instances on one port
#                             both "work" and silently share the connections.
#   rg_wait_port HOST PORT [SECS] [tcp|udp]
#                             wait (default 10 s) until something listens on
#                             HOST:PORT (or on the wildcard address); uses ss, so
#                             it never connects to the server. Status 1 on timeout.
#   rg_smtp_banner HOST PORT [SECS]
#                             connect, print the first reply line (CR removed),
#                             send QUIT. Status 1 when nothing could be read.
#   rg_retry SECS CMD...      run CMD every 50 ms until it succeeds; status 1 when
#                             SECS elapse first.
#   rg_spawn LOG CMD...       start CMD in the background (stdout+stderr to LOG),
#                             set RG_SPAWN_PID, and register rg_kill_pid for it.
#                             Call it directly, not in $(...), or the PID is lost.
#                             The process is a child of the test shell: never use a
#                             bare "wait" (it would wait for it); use wait PID.
#   rg_pid_alive PID          status 0 when PID runs (a zombie counts as gone: here
#                             PID 1 reaps orphans only every second or two).
#   rg_kill_pid PID [SECS]    SIGTERM, wait up to SECS (default 5), then SIGKILL;
#                             reaps it if it is our child.
#   rg_wait_pids_gone SECS PID...
#                             status 0 when all PIDs are gone within SECS.
#   rg_now_ms                 milliseconds since the epoch.
#   rg_diag TEXT...           print "# TEXT" to stdout (a TAP diagnostic).
#   rg_die TEXT...            print "# FATAL: TEXT" and exit 1 (cleanups run).

# Works under set -e / set -u / pipefail; tap_fail returns 1, though, so a script
# under set -e stops at its first failed check (tests/run then reports it).

[ -n "${RG_COMMON_SH_LOADED:-}" ] && return 0
RG_COMMON_SH_LOADED=1

# A ThreadSanitizer build (make check SANITIZE=thread) ignores what lies in
# uninstrumented libmilter (tests/tsan.supp).
export TSAN_OPTIONS=${TSAN_OPTIONS:-suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tsan.supp}

RG_PORT_DIR=${RG_PORT_DIR:-/tmp/relayguard-ports}
RG_CLEANUPS=()
RG_CLEANUP_DONE=

rg_now_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

rg_diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

rg_die() {
	rg_diag "FATAL: $*"
	exit 1
}

# --- cleanups ---------------------------------------------------------------

rg_cleanup_add() {
	[ $# -gt 0 ] || return 0
	RG_CLEANUPS+=("$*")
}

rg__release_ports() {
	local d
	[ -d "$RG_PORT_DIR" ] || return 0
	for d in "$RG_PORT_DIR"/*; do
		[ -f "$d/owner" ] || continue
		[ "$(cat "$d/owner" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
	return 0
}

rg__run_cleanups() {
	local rc=$? i
	[ -n "$RG_CLEANUP_DONE" ] && return $rc
	RG_CLEANUP_DONE=1
	set +e
	for ((i = ${#RG_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${RG_CLEANUPS[$i]}" || rg_diag "cleanup failed: ${RG_CLEANUPS[$i]}"
	done
	rg__release_ports
	if [ -n "${RG_PREV_EXIT_TRAP:-}" ]; then
		eval "$RG_PREV_EXIT_TRAP"
	fi
	return $rc
}

# Keep an EXIT trap the sourcing script may already have set.
RG_PREV_EXIT_TRAP=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
trap rg__run_cleanups EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- processes --------------------------------------------------------------

rg_pid_alive() {
	local pid=$1 state
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
	# Field 3 of /proc/PID/stat, after the parenthesised command name.
	state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || true
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

rg_wait_pids_gone() {
	local secs=$1 deadline pid alive
	shift
	deadline=$(($(rg_now_ms) + secs * 1000))
	while :; do
		alive=
		for pid in "$@"; do
			rg_pid_alive "$pid" && alive=1 && break
		done
		[ -z "$alive" ] && return 0
		[ "$(rg_now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

rg_kill_pid() {
	local pid=$1 secs=${2:-5}
	[ -n "$pid" ] || return 0
	if rg_pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! rg_wait_pids_gone "$secs" "$pid"; then
			rg_diag "pid $pid ignored SIGTERM for ${secs}s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			rg_wait_pids_gone 2 "$pid" || true
		fi
	fi
	# Reap it when it is our own child (no-op otherwise).
	wait "$pid" 2>/dev/null || true
	return 0
}

rg_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	RG_SPAWN_PID=$!
	rg_cleanup_add "rg_kill_pid $RG_SPAWN_PID"
}

rg_retry() {
	local secs=$1 deadline
	shift
	deadline=$(($(rg_now_ms) + secs * 1000))
	while :; do
		"$@" && return 0
		[ "$(rg_now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# rg_count_ge N CMD ARGS...: true when the number CMD prints is >= N. CMD runs
# anew on each call, so "rg_retry SECS rg_count_ge N CMD..." really waits
# (unlike rg_retry SECS test "$(CMD)" -ge N, which tests one frozen value).
rg_count_ge() {
	local want=$1 got
	shift
	got=$("$@" 2>/dev/null) || true
	[ -n "$got" ] && [ "$got" -ge "$want" ] 2>/dev/null
}

# --- ports ------------------------------------------------------------------

rg__port_listening() {	# PORT PROTO(tcp|udp|both)
	local port=$1 proto=$2 flags
	case $proto in
	tcp) flags=-Hltn ;;
	udp) flags=-Hlun ;;
	*) flags=-Hltun ;;
	esac
	[ -n "$(ss $flags "sport = :$port" 2>/dev/null)" ]
}

rg_free_port() {
	local proto=${1:-both} tries=0 port owner
	mkdir -p "$RG_PORT_DIR" 2>/dev/null || true
	chmod 1777 "$RG_PORT_DIR" 2>/dev/null || true
	while [ $tries -lt 500 ]; do
		tries=$((tries + 1))
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		if ! mkdir "$RG_PORT_DIR/$port" 2>/dev/null; then
			# Reserved: reclaim it only when its owner is dead.
			owner=$(cat "$RG_PORT_DIR/$port/owner" 2>/dev/null) || true
			if [ -n "$owner" ] && ! rg_pid_alive "$owner"; then
				rm -rf "${RG_PORT_DIR:?}/$port"
			fi
			continue
		fi
		echo $$ >"$RG_PORT_DIR/$port/owner"
		if rg__port_listening "$port" "$proto"; then
			rm -rf "${RG_PORT_DIR:?}/$port"
			continue
		fi
		echo "$port"
		return 0
	done
	echo "rg_free_port: no free port found" >&2
	return 1
}

rg__addr_match() {	# LOCAL_ADDR_FROM_SS HOST
	local a=$1 h=$2
	case $a in
	"$h" | "[$h]" | 0.0.0.0 | '*' | '[::]' | '[::ffff:0.0.0.0]') return 0 ;;
	esac
	return 1
}

rg__listening_on() {	# HOST PORT PROTO
	local host=$1 port=$2 flags=-Hltn local_col addr
	[ "$3" = udp ] && flags=-Hlun
	while read -r _ _ _ local_col _; do
		addr=${local_col%:*}
		addr=${addr%%%*}	# strip %iface
		rg__addr_match "$addr" "$host" && return 0
	done < <(ss $flags "sport = :$port" 2>/dev/null)
	return 1
}

rg_wait_port() {
	local host=$1 port=$2 secs=${3:-10} proto=${4:-tcp}
	rg_retry "$secs" rg__listening_on "$host" "$port" "$proto"
}

# shellcheck disable=SC2016  # the script is meant for the inner bash
rg_smtp_banner() {
	local host=$1 port=$2 secs=${3:-5}
	timeout "$secs" bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		IFS= read -r line <&3 || exit 1
		printf "QUIT\r\n" >&3
		printf "%s\n" "${line%$'"'"'\r'"'"'}"
	' rg_smtp_banner "$host" "$port" 2>/dev/null
}
