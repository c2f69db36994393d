# tests/lib/hostile.sh - start and stop tests/tools/hostile_smtpd for a test.
#
#   source tests/lib/tap.sh; source tests/lib/common.sh; source tests/lib/hostile.sh
#   start_hostile MODE [LIFETIME]   start on a free loopback port: sets HPORT
#                                   and HPID, registers the stop with
#                                   rg_cleanup_add, bails out unless the
#                                   server says "ready" within 5 s
#   start_logged MODE [LOG]         the same with the server's log, one line
#                                   per connection served (its stderr), in
#                                   LOG (default $W/MODE.log, truncated);
#                                   lifetime 120 s. The server inherits the
#                                   caller's environment (HOSTILE_TARPIT,
#                                   HOSTILE_MAXPERIP, ...)
#   stop_hostile                    stop it (by its PID)
#
# HOSTILE (default $BUILD/tests/tools/hostile_smtpd) names the binary.

HOSTILE=${HOSTILE:-${BUILD:-build}/tests/tools/hostile_smtpd}
[ -x "$HOSTILE" ] || tap_bail "missing $HOSTILE (make all)"

# hostile__start MODE LIFETIME LOG: the one way to start the server; its
# stderr (one line per connection served) goes to LOG.
hostile__start() {
	local mode=$1 lifetime=$2 log=$3 line
	HPORT=$(rg_free_port tcp)
	coproc HOST_PROC { exec "$HOSTILE" "$mode" "$HPORT" ${lifetime:+"$lifetime"} 2>"$log"; }
	HPID=$HOST_PROC_PID
	rg_cleanup_add "rg_kill_pid $HPID"
	read -r -t 5 line <&"${HOST_PROC[0]}"
	[ "$line" = ready ] || tap_bail "hostile_smtpd $mode did not start (got '$line')"
}
start_hostile() { hostile__start "$1" "${2:-}" /dev/null; }
start_logged() {
	[ -n "${2:-}" ] || [ -d "${W:-}" ] || tap_bail "start_logged $1: no LOG and no \$W directory"
	hostile__start "$1" 120 "${2:-$W/$1.log}"
}
stop_hostile() { rg_kill_pid "$HPID"; }
