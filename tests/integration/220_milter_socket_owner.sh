#!/bin/bash
# The documented unix-socket setup (issue 9, item 1): the milter started as
# root with "Socket unix:...", "SocketMode 0660" and "UserID nobody:postfix"
# hands the socket to that user and group, so that Postfix's smtpd, running
# as user postfix, reaches it: a relay attempt through an open Postfix is
# refused by the milter's own reply, a local message is delivered. Before
# the fix the socket stayed root:root and smtpd got "Permission denied"
# (milter_default_action = tempfail: everything 4xx). The socket's missing
# directory is created for the UserID user (so that it can remove the
# socket at exit); a directory anybody may write is refused.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
[ "$(id -u)" = 0 ] || { tap_skip "socket ownership" "needs root"; tap_done; exit; }
getent passwd nobody >/dev/null && getent group postfix >/dev/null ||
	{ tap_skip "socket ownership" "no user nobody or group postfix"; tap_done; exit; }

D=$(mktemp -d "${TMPDIR:-/tmp}/rg-msock.XXXXXX") || tap_bail "mktemp"
chmod 755 "$D"
rg_cleanup_add "rm -rf '$D'"
SOCK=$D/run/milter.sock
cat >"$D/relayguard.conf" <<EOF
Socket unix:$SOCK
SocketMode 0660
UserID nobody:postfix
EventLog $D/run/events.jsonl
Mode enforce
TrustedNetworks 127.0.0.1/32
LocalDomains mail.site.example, site.example, localhost
EOF
chmod 644 "$D/relayguard.conf"
rg_spawn "$D/milter.log" "$MILTER" -f -c "$D/relayguard.conf"
MPID=$RG_SPAWN_PID
rg_retry 10 test -S "$SOCK" || tap_bail "no socket: $(cat "$D/milter.log")"

tap_is "$(stat -c '%U:%G %a' "$SOCK")" "nobody:postfix 660" "the socket belongs to nobody:postfix, mode 0660"
tap_is "$(stat -c '%U:%G %a' "$D/run")" "nobody:postfix 750" "its missing directory was created for nobody:postfix, mode 0750"
tap_is "$(awk '/^Uid:/ {print $2 "," $3 "," $4}' "/proc/$MPID/status")" "$(id -u nobody),$(id -u nobody),$(id -u nobody)" \
	"the milter runs as nobody"

PF_MAIN_EXTRA="smtpd_milters = unix:$SOCK
milter_default_action = tempfail" pf_start open || tap_bail "cannot start Postfix"

out=$(pf_swaks --local-interface 127.0.0.2 --from a@other.example --to x@victim.example --quit-after RCPT 2>&1)
tap_like "$out" '<\*\* +554 5\.7\.1 <x@victim\.example>: Relay access denied' \
	"Postfix's smtpd (user postfix) reaches the milter: a relay attempt gets the milter's 554" ||
	tap_diag "$(grep -i milter "$PF_LOG" | tail -3)"
out=$(pf_swaks --local-interface 127.0.0.2 --from a@other.example --to postmaster@site.example 2>&1)
tap_like "$out" '<-  250 2\.0\.0 Ok: queued' "a local message is accepted"
tap_check "and delivered" pf_wait_mailbox_count root 1 20
tap_is "$(pf_log_count 'Permission denied')" 0 "no 'Permission denied' in the maillog"
tap_is "$(jq -r 'select(.event=="relay_refused") | .recipient' "$D/run/events.jsonl" 2>/dev/null)" "<x@victim.example>" \
	"the event log (opened as nobody) records the refusal"

kill -TERM "$MPID"
rg_wait_pids_gone 15 "$MPID" || tap_diag "milter did not stop"
tap_check "the socket is removed at exit" test ! -e "$SOCK"

# A socket directory that anybody may write (no sticky bit) is refused.
mkdir -m 0777 "$D/open" && chmod 0777 "$D/open"
sed -i "s|^Socket .*|Socket unix:$D/open/milter.sock|" "$D/relayguard.conf"
out=$(timeout 10 "$MILTER" -f -c "$D/relayguard.conf" 2>&1); rc=$?
tap_is "$rc" 1 "a world-writable socket directory: the milter refuses to start"
tap_like "$out" "socket directory $D/open is writable by anybody \\(mode 0777\\)" "and says why"

# Under systemd's ProtectSystem=strict a missing socket directory outside
# ReadWritePaths cannot be created (EROFS; review 1, item 11): the fatal
# message says what to do. A read-only bind mount plays the sandbox.
mkdir -m 0755 "$D/ro"
sed -i "s|^Socket .*|Socket unix:$D/ro/relayguard/milter.sock|" "$D/relayguard.conf"
if out=$(unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec timeout 10 "$2" -f -c "$3"' \
	sh "$D/ro" "$MILTER" "$D/relayguard.conf" 2>&1) || [ -n "$out" ]; then
	tap_like "$out" "cannot create the socket directory $D/ro/relayguard: Read-only file system \\(systemd's ProtectSystem=strict: create it beforehand, e.g. with tmpfiles.d; see relayguard-milter\\(8\\) FILES\\)" \
		"a read-only file system (the unit's sandbox): the reason and what to do"
fi
tap_done
