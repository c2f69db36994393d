#!/bin/bash
# make install / make uninstall into a DESTDIR and a PREFIX: the tree, the
# config never overwritten, the systemd unit (systemd-analyze verify),
# sysusers.d and tmpfiles.d applied to the staged root, and the logrotate
# snippet run for real against an installed milter: after each rotation
# the EventLog is reopened (SIGUSR1), also when the config file is broken
# at that moment; exact line counts before and after.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

rg_built "$MILTER"
T=$(mktemp -d "${TMPDIR:-/tmp}/rg-install.XXXXXX") || tap_bail "mktemp"
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$T'"
MK=(make -s --no-print-directory "BUILD=$BUILD")

# --- DESTDIR ------------------------------------------------------------------
D=$T/dest
out=$("${MK[@]}" install DESTDIR="$D" 2>&1)
tap_is "$?" 0 "make install DESTDIR=... exits 0" || tap_diag "$out"
for f in usr/local/sbin/relayguard-milter usr/local/bin/relayguard-audit usr/local/bin/relayguard-report; do
	tap_check "$f is installed and executable" test -x "$D/$f"
done
tap_check "the milter is not in bin/" test ! -e "$D/usr/local/bin/relayguard-milter"
tap_check "etc/relayguard/relayguard.conf is the sample" cmp conf/relayguard.conf "$D/etc/relayguard/relayguard.conf"
tap_check "etc/relayguard/reporter.conf is the sample (reports identify the reporter)" \
	cmp conf/reporter.conf "$D/etc/relayguard/reporter.conf"
for f in usr/local/lib/systemd/system/relayguard-milter.service usr/local/lib/tmpfiles.d/relayguard.conf \
	usr/local/lib/sysusers.d/relayguard.conf etc/logrotate.d/relayguard \
	etc/fail2ban/filter.d/relayguard.conf etc/fail2ban/jail.d/relayguard.conf \
	usr/local/share/man/man8/relayguard-milter.8 usr/local/share/man/man5/relayguard.conf.5 \
	usr/local/share/man/man1/relayguard-audit.1 usr/local/share/doc/relayguard/relayguard.conf; do
	tap_check "$f is installed" test -s "$D/$f"
done
UNIT=$D/usr/local/lib/systemd/system/relayguard-milter.service
tap_is "$(grep -E '^Exec(Start|Reload)=' "$UNIT")" \
	"ExecStart=/usr/local/sbin/relayguard-milter -c /etc/relayguard/relayguard.conf
ExecReload=/bin/kill -USR1 \$MAINPID" "the unit starts the installed daemon and reloads with SIGUSR1"
tap_like "$(grep -cE '^(ProtectSystem=strict|ProtectHome=yes|PrivateTmp=yes|NoNewPrivileges=yes|RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6)$' "$UNIT")" '^5$' \
	"the unit is sandboxed (ProtectSystem=strict, ProtectHome, PrivateTmp, NoNewPrivileges, RestrictAddressFamilies)"
tap_unlike "$(cat "$UNIT")" '@[A-Z]+@' "no placeholder is left in the unit"

echo "# the admin's own line" >>"$D/etc/relayguard/relayguard.conf"
echo "# the analyst's own line" >>"$D/etc/relayguard/reporter.conf"
out=$("${MK[@]}" install DESTDIR="$D" 2>&1)
tap_is "$(tail -1 "$D/etc/relayguard/reporter.conf")" "# the analyst's own line" "a second install keeps reporter.conf too"
tap_like "$out" "kept $D/etc/relayguard/relayguard.conf" "a second install says it keeps the config"
tap_is "$(tail -1 "$D/etc/relayguard/relayguard.conf")" "# the admin's own line" "and does not overwrite it"

# sysusers.d and tmpfiles.d, applied to the staged root (never to /)
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	: >"$D/etc/passwd"
	: >"$D/etc/group"
	systemd-sysusers --root="$D" >/dev/null 2>&1
	tap_like "$(cut -d: -f1,6,7 "$D/etc/passwd")" '^relayguard:/nonexistent:/usr/sbin/nologin$' \
		"sysusers.d creates the relayguard system user"
	systemd-tmpfiles --root="$D" --create "$D/usr/local/lib/tmpfiles.d/relayguard.conf" 2>&1
	uid=$(awk -F: '$1=="relayguard"{print $3}' "$D/etc/passwd")
	tap_is "$(stat -c '%a %u' "$D/run/relayguard" "$D/var/log/relayguard" 2>&1 | tr '\n' ' ')" \
		"755 $uid 750 $uid " "tmpfiles.d creates /run/relayguard and /var/log/relayguard for that user"
else
	tap_skip "sysusers.d creates the relayguard system user" "systemd-sysusers not installed"
	tap_skip "tmpfiles.d creates the directories" "systemd-tmpfiles not installed"
fi

out=$("${MK[@]}" uninstall DESTDIR="$D" 2>&1)
tap_is "$?" 0 "make uninstall exits 0" || tap_diag "$out"
left=$(cd "$D" && find . -type f ! -path "./etc/passwd*" ! -path "./etc/group*" ! -path "./etc/gshadow*" ! -path "./etc/shadow*" ! -path ./etc/.pwd.lock | sort)
tap_is "$left" "./etc/relayguard/relayguard.conf
./etc/relayguard/reporter.conf" "uninstall removes everything but the changed configs" ||
	tap_diag "$left"
tap_like "$out" "kept $D/etc/relayguard/relayguard.conf" "and says so"

# --- PREFIX and SYSCONFDIR (no DESTDIR): a runnable install -----------------------
P=$T/p
out=$("${MK[@]}" install PREFIX="$P/usr" SYSCONFDIR="$P/etc" 2>&1)
tap_is "$?" 0 "make install PREFIX=... SYSCONFDIR=... exits 0" || tap_diag "$out"
PUNIT=$P/usr/lib/systemd/system/relayguard-milter.service
tap_is "$(grep -E '^ExecStart=' "$PUNIT")" \
	"ExecStart=$P/usr/sbin/relayguard-milter -c $P/etc/relayguard/relayguard.conf" \
	"the unit follows PREFIX and SYSCONFDIR"
tap_check "the config goes to SYSCONFDIR" test -s "$P/etc/relayguard/relayguard.conf"
tap_check "the logrotate snippet goes to SYSCONFDIR/logrotate.d" test -s "$P/etc/logrotate.d/relayguard"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify --man=no "$PUNIT" 2>&1)
	rc=$?
	tap_is "$rc:$out" "0:" "systemd-analyze verify: no error and no warning" || tap_diag "$out"
	score=$(systemd-analyze security --offline=true "$PUNIT" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
	tap_like "$score" '^[0-3]\.[0-9]$' "systemd-analyze security: exposure $score (below 4, OK)"
else
	tap_skip "systemd-analyze verify" "systemd-analyze not installed"
	tap_skip "systemd-analyze security" "systemd-analyze not installed"
fi

# --- logrotate: rotation, SIGUSR1, the EventLog reopened -------------------------
if ! command -v logrotate >/dev/null || ! command -v miltertest >/dev/null; then
	tap_skip "logrotate reopens the EventLog" "logrotate or miltertest not installed (make deps)"
	tap_done
	exit
fi
mkdir -p "$T/log" "$T/run"
CONF=$P/etc/relayguard/relayguard.conf
cat >"$CONF" <<EOF
Socket unix:$T/run/milter.sock
PidFile $T/run/relayguard-milter.pid
EventLog $T/log/events.jsonl
TrustedNetworks 127.0.0.1/32
LocalDomains site.example
EOF
rg_spawn "$T/milter.log" "$P/usr/sbin/relayguard-milter" -f -c "$CONF"
MPID=$RG_SPAWN_PID
rg_retry 5 test -S "$T/run/milter.sock" || tap_bail "installed milter did not start: $(cat "$T/milter.log")"
traffic() {	# N: N refused relay attempts
	RG_MILTER_SOCKET="unix:$T/run/milter.sock" RG_COUNT=$1 timeout 60 miltertest -s tests/milter/traffic.lua 2>&1
}
lines() {	# FILE: its relay_refused events
	[ -e "$1" ] || { echo none; return; }
	jq -c 'select(.event == "relay_refused")' "$1" | wc -l
}
sed -e "s|/var/log/relayguard|$T/log|g" -e "s|/run/relayguard/relayguard-milter.pid|$T/run/relayguard-milter.pid|g" \
	-e "s|/run/systemd/system|$T/no-systemd|g" "$P/etc/logrotate.d/relayguard" >"$T/logrotate.conf"
tap_is "$(traffic 3)" "reject=3 continue=0 other=0" "3 relay attempts refused"
tap_is "$(lines "$T/log/events.jsonl")" 3 "3 relay_refused events logged"
out=$(logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf" 2>&1)
tap_is "$?" 0 "logrotate runs the installed snippet" || tap_diag "$out"
tap_check "the milter reopens after SIGUSR1 (reload logged)" rg_retry 5 grep -q 'reloaded ' "$T/milter.log"
tap_is "$(traffic 2)" "reject=2 continue=0 other=0" "2 more relay attempts refused"
tap_is "$(lines "$T/log/events.jsonl.1") $(lines "$T/log/events.jsonl")" "3 2" \
	"rotated file keeps the 3 old events, the reopened EventLog has the 2 new ones"

echo "Mode relay-everything" >>"$CONF"
out=$(logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf" 2>&1)
tap_is "$?" 0 "second rotation, with a broken config file" || tap_diag "$out"
tap_check "the reload is refused" rg_retry 5 grep -q 'reload refused' "$T/milter.log"
rg_retry 5 test -e "$T/log/events.jsonl" || true
tap_is "$(traffic 1)" "reject=1 continue=0 other=0" "1 more relay attempt refused"
tap_is "$(lines "$T/log/events.jsonl.1") $(lines "$T/log/events.jsonl")" "2 1" \
	"the EventLog is reopened even though the reload was refused"
tap_check "older rotations are compressed (delaycompress)" test -s "$T/log/events.jsonl.2.gz"
# The pid file's directory belongs to the daemon's user, who could plant
# any pid (review 1, item 12): root's postrotate signals only a
# relayguard-milter, never another process (SIGUSR1 would kill it).
sleep 60 &
VICTIM=$!
rg_cleanup_add "rg_kill_pid $VICTIM 2"
cp "$T/run/relayguard-milter.pid" "$T/pid.saved"
echo "$VICTIM" >"$T/run/relayguard-milter.pid"
echo '{"event":"x"}' >>"$T/log/events.jsonl"
logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf" >/dev/null 2>&1
sleep 0.5
tap_check "a planted pid of another process is not signalled" rg_pid_alive "$VICTIM"
cat "$T/pid.saved" >"$T/run/relayguard-milter.pid"
rg_kill_pid "$MPID" 15
"${MK[@]}" uninstall PREFIX="$P/usr" SYSCONFDIR="$P/etc" >/dev/null 2>&1
tap_done
