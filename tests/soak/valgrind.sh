#!/bin/bash
# tests/soak/valgrind.sh - make valgrind: relayguard-milter under
# valgrind --leak-check=full behind a real Postfix, through the traffic of
# an integration run, then stopped with SIGTERM; fails when valgrind
# reports a definite or indirect leak or any memory error.
#
# Traffic (Mode enforce, milter_default_action = tempfail): VG_MESSAGES
# (default 400) messages of tests/soak/client.py (trusted and untrusted
# client, local and remote recipients: permits, relay refusals, local
# deliveries), a batch of bounces (MAIL FROM:<>, a Postfix DSN as body:
# the DSN parser and the bounce-storm sensor), a SIGUSR1 reload (config
# swap, event log reopened) and a SIGUSR2 metrics dump, then more traffic.
# "Still reachable" blocks are not counted: the installed config, the
# client counter and the bounce sensors stay in place until exit on
# purpose (milter/main.c).
#
# Runs in a private network namespace (unshare -n) as root, like tests/run.
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
N=${VG_MESSAGES:-400}
command -v valgrind >/dev/null || { echo "valgrind: not installed (make deps)"; exit 1; }
[ -x "$BUILD/relayguard-milter" ] || { echo "$BUILD/relayguard-milter not built"; exit 1; }
source tests/lib/postfix.sh
VG_DIR=$(mktemp -d /tmp/rg-valgrind.XXXXXX) || exit 1
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$VG_DIR'"
cat >"$VG_DIR/milter" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --show-leak-kinds=definite,indirect \\
	--errors-for-leak-kinds=definite,indirect --num-callers=30 \\
	--log-file=$VG_DIR/valgrind.log "$BUILD/relayguard-milter" "\$@"
EOF
chmod 755 "$VG_DIR/milter"
MILTER=$VG_DIR/milter
source tests/milter/lib.sh

ml_start "Mode enforce" || rg_retry 60 test -S "$ML_SOCK" ||
	rg_die "milter did not start under valgrind: $(tail -20 "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail
milter_connect_timeout = 30s
milter_command_timeout = 60s
milter_content_timeout = 60s
smtpd_soft_error_limit = 100000
smtpd_hard_error_limit = 100000
smtpd_error_sleep_time = 0" pf_start open || rg_die "cannot start Postfix"

status=0
traffic() {	# BASE
	python3 tests/soak/client.py --port "$PF_PORT" --count "$N" --workers 4 \
		--base "$1" --out "$VG_DIR/results.$1" >"$VG_DIR/client.$1.log" 2>&1 ||
		{ echo "# client failed: $(tail -3 "$VG_DIR/client.$1.log")"; status=1; }
	awk '{print $2, $3, $4}' "$VG_DIR/results.$1" | sort | uniq -c | sed 's/^/# /'
}
traffic 0
python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 --sender '' \
	--rcpt 'root@site.example' --count 40 --body-file tests/unit/dsn/postfix-bounce.eml \
	--timeout 120 | sed 's/^/# bounces: /'
kill -USR1 "$ML_PID"
rg_retry 30 grep -q "reloaded" "$ML_DIR/milter.log" || { echo "# reload not seen"; status=1; }
kill -USR2 "$ML_PID"
traffic "$N"
pf_flush
pf_wait_queue_empty 120

kill -TERM "$ML_PID"
rg_wait_pids_gone 120 "$ML_PID" || { echo "# milter did not stop"; status=1; kill -KILL "$ML_PID"; }
wait "$ML_PID" 2>/dev/null
ML_PID=
grep -E "definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY|All heap blocks" \
	"$VG_DIR/valgrind.log" | sed 's/^==[0-9]*== */# valgrind: /'
def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$VG_DIR/valgrind.log" | tr -d ,)
ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$VG_DIR/valgrind.log" | tr -d ,)
errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$VG_DIR/valgrind.log" | tail -1 | tr -d ,)
if ! grep -q "ERROR SUMMARY" "$VG_DIR/valgrind.log"; then
	echo "# no valgrind summary (did the milter exit?)"
	status=1
elif [ "${def:-0}" != 0 ] || [ "${ind:-0}" != 0 ] || [ "${errs:-0}" != 0 ]; then
	sed 's/^/# /' "$VG_DIR/valgrind.log" | grep -v "^# ==[0-9]*== *$" | head -150
	status=1
fi
echo "valgrind: definitely lost ${def:-0} bytes, indirectly lost ${ind:-0} bytes, ${errs:-?} errors"
[ $status = 0 ] && echo "valgrind: PASS" || echo "valgrind: FAIL"
exit $status
