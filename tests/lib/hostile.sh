# tests/lib/hostile.sh - start and stop tests/tools/hostile_smtpd for a test.
#
#   source tests/lib/tap.sh; source tests/lib/common.sh; source tests/lib/hostile.sh
#   start_hostile MODE [LIFETIME]   start on a free loopback port: sets HPORT
#                                   and HPID, registers the stop with
#                                   rg_cleanup_add, bails out unless the
#                                   server says "ready" within 5 s
#   stop_hostile                    stop it (by its PID)
#
# HOSTILE (default $BUILD/tests/tools/hostile_smtpd) names the binary.

HOSTILE=${HOSTILE:-${BUILD:-build}/tests/tools/hostile_smtpd}
[ -x "$HOSTILE" ] || tap_bail "missing $HOSTILE (make all)"

start_hostile() {
	local mode=$1 lifetime=${2:-} line
	HPORT=$(rg_free_port tcp)
	coproc HOST_PROC { exec "$HOSTILE" "$mode" "$HPORT" ${lifetime:+"$lifetime"} 2>/dev/null; }
	HPID=$HOST_PROC_PID
	rg_cleanup_add "rg_kill_pid $HPID"
	read -r -t 5 line <&"${HOST_PROC[0]}"
	[ "$line" = ready ] || tap_bail "hostile_smtpd $mode did not start (got '$line')"
}
stop_hostile() { rg_kill_pid "$HPID"; }
