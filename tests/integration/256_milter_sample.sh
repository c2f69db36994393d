#!/bin/bash
# The shipped sample conf/relayguard.conf is safe on a first run (review 1,
# item 9): Mode log-only (a fresh install never refuses mail, although
# LocalDomains is still empty), UserID relayguard:postfix, a unix socket
# in /var/spool/postfix/relayguard (reached by a chrooted smtpd) with
# SocketMode 0660. Before the fix the sample said
# Mode enforce with empty LocalDomains, no UserID, inet:8894@127.0.0.1:
# postmaster@ of the server itself was refused 554 and the daemon ran as
# root. The sample runs here as shipped, only its /run/relayguard and socket
# paths moved to a temp dir, TrustedNetworks narrowed to 127.0.0.1 (the test's
# outside client is 127.0.0.2) and UserID relayguard -> nobody where no user
# relayguard exists, in front of a real Postfix.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
[ "$(id -u)" = 0 ] || { tap_skip "sample config" "needs root"; tap_done; exit; }
getent group postfix >/dev/null || { tap_skip "sample config" "no group postfix"; tap_done; exit; }

S=conf/relayguard.conf
tap_is "$(grep -E '^(Mode|UserID|Socket|SocketMode|PidFile) ' "$S")" \
"Socket unix:/var/spool/postfix/relayguard/milter.sock
UserID relayguard:postfix
PidFile /run/relayguard/relayguard-milter.pid
SocketMode 0660
Mode log-only" "the sample: unix socket 0660 in Postfix's queue directory, UserID relayguard:postfix, Mode log-only"

D=$(mktemp -d "${TMPDIR:-/tmp}/rg-msample.XXXXXX") || tap_bail "mktemp"
chmod 755 "$D"
rg_cleanup_add "rm -rf '$D'"
U=relayguard
getent passwd relayguard >/dev/null || U=nobody
# 127.0.0.2 is the outside client here: narrow the sample's 127.0.0.0/8
sed -e "s|/run/relayguard|$D/run|g" -e "s|/var/spool/postfix/relayguard|$D/run|g" -e "s|^UserID relayguard:|UserID $U:|" \
	-e "s|^TrustedNetworks .*|TrustedNetworks 127.0.0.1/32, ::1|" "$S" >"$D/relayguard.conf"
chmod 644 "$D/relayguard.conf"
out=$("$MILTER" -t -c "$D/relayguard.conf" 2>&1); rc=$?
tap_is "$rc" 0 "-t accepts the sample"
tap_unlike "$out" "warning" "and has no warning for it (no enforce without domains, a UserID, a closed socket)" ||
	tap_diag "$out"

rg_spawn "$D/milter.log" "$MILTER" -f -c "$D/relayguard.conf"
MPID=$RG_SPAWN_PID
SOCK=$D/run/milter.sock
rg_retry 10 test -S "$SOCK" || tap_bail "no socket: $(cat "$D/milter.log")"
tap_is "$(stat -c '%U:%G %a' "$SOCK")" "$U:postfix 660" "the socket belongs to $U:postfix, mode 0660"
tap_is "$(awk '/^Uid:/ {print $2}' "/proc/$MPID/status")" "$(id -u "$U")" "the daemon does not run as root"

PF_MAIN_EXTRA="smtpd_milters = unix:$SOCK
milter_default_action = tempfail" pf_start closed || tap_bail "cannot start Postfix"
out=$(pf_swaks --local-interface 127.0.0.2 --from a@other.example --to postmaster@site.example 2>&1)
tap_like "$out" '<-  250 2\.0\.0 Ok: queued' "mail from outside to postmaster@ of this server is accepted (not 554)" ||
	tap_diag "$(grep -E '<~?\*' <<<"$out")"
tap_check "and delivered" pf_wait_mailbox_count root 1 20
tap_like "$(cat "$D/milter.log")" "event=relay_would_refuse .*postmaster@site.example" \
	"the milter logs what enforce would refuse (LocalDomains still empty)"
rg_kill_pid "$MPID" 15
tap_done
