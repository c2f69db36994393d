#!/bin/bash
# Config file trust (issue 9, item 5), sshd StrictModes style: the milter,
# started as root, refuses a config (or a file: list it includes) that
# anybody may write, that a group other than root may write, that belongs
# to the UserID user (or anyone but root), or that lies in a directory
# anybody may write - at start, with -t, and at a SIGUSR1 reload (after the
# privilege drop), always with the reason; the running config stays.
# POSIX ACLs that let another user or group write, and every directory up
# to /, count too (review 1, item 4).
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
RAW="python3 tests/milter/rawmilter.py"
rg_built "$MILTER"
[ "$(id -u)" = 0 ] || { tap_skip "config trust" "needs root"; tap_done; exit; }
getent passwd nobody >/dev/null && getent group postfix >/dev/null ||
	{ tap_skip "config trust" "no user nobody or group postfix"; tap_done; exit; }

D=$(mktemp -d "${TMPDIR:-/tmp}/rg-mtrust.XXXXXX") || tap_bail "mktemp"
chmod 755 "$D"
rg_cleanup_add "rm -rf '$D'"
mkdir -m 0750 "$D/sock" && chown nobody "$D/sock"
C=$D/relayguard.conf
write_conf() {	# EXTRA-LINES
	cat >"$C" <<EOF
Socket unix:$D/sock/milter.sock
SocketMode 0666
UserID nobody
Mode enforce
TrustedNetworks 127.0.0.1/32
LocalDomains site.example
$1
EOF
	chown root:root "$C"
	chmod 0644 "$C"
}
check() {	# DESC WANT-RC ERE
	local out rc
	out=$("$MILTER" -t -c "$C" 2>&1) && rc=0 || rc=$?
	tap_is "$rc" "$2" "-t: $1: exit $2"
	tap_like "$out" "$3" "-t: $1: says why" || true
}

write_conf ""
check "root:root 0644" 0 "configuration OK"
chmod 0646 "$C"
check "world-writable (0646)" 1 "^$C: refused: writable by anybody \\(mode 0646\\); chmod o-w\$"
chmod 0664 "$C"; chgrp postfix "$C"
check "group-writable by postfix (0664)" 1 "^$C: refused: writable by group $(getent group postfix | cut -d: -f3) \\(mode 0664\\); chmod g-w\$"
chgrp root "$C"
check "group-writable by root (0664)" 0 "configuration OK"
chmod 0644 "$C"; chown nobody "$C"
check "owned by the UserID user nobody" 1 "^$C: refused: it belongs to nobody \\(uid $(id -u nobody)\\), not to root or the user that started the milter"
chown root "$C"
mkdir -m 0777 "$D/open"; chmod 0777 "$D/open"
cp "$C" "$D/open/r.conf"
out=$("$MILTER" -t -c "$D/open/r.conf" 2>&1); rc=$?
tap_is "$rc" 1 "-t: a config in a world-writable directory is refused"
tap_like "$out" "its directory $D/open is writable by anybody \\(mode 0777\\)" "-t: and says why"
echo "127.0.0.0/8" >"$D/nets"; chmod 0666 "$D/nets"
write_conf "TrustedNetworks file:$D/nets"
check "a world-writable file: list (TrustedNetworks)" 1 "$D/nets: refused: writable by anybody"
chmod 0644 "$D/nets"
check "the same list, 0644" 0 "configuration OK"

# POSIX ACLs and every parent directory (review 1, item 4): "ls -l" shows
# an ACL's mask as the group bits, so u:nobody:rw hid behind -rw-rw-r--
# root root and was accepted; only the file's own directory was checked.
setacl() {	# PATH TAG(2 user, 8 group) ID PERM: set an access ACL (no setfacl needed)
	python3 - "$@" <<'PY'
import os, struct, sys
path, tag, ident, perm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
e = lambda t, p, i=0xffffffff: struct.pack("<HHI", t, p, i)
ents = sorted([(1, 7, 0xffffffff), (tag, perm, ident), (4, 5, 0xffffffff), (0x10, 7, 0xffffffff), (0x20, 5, 0xffffffff)])
acl = struct.pack("<I", 2) + b"".join(e(*x) for x in ents)	# sorted by tag, as the kernel wants
os.setxattr(path, "system.posix_acl_access", acl)
PY
}
if setacl "$C" 2 "$(id -u nobody)" 6 2>/dev/null; then
	check "an ACL u:nobody:rw (ls: -rw-rw-r-- root root)" 1 \
		"^$C: refused: its ACL lets user $(id -u nobody) write; setfacl -x u:$(id -u nobody)\$"
	write_conf ""
	setacl "$C" 8 "$(getent group postfix | cut -d: -f3)" 6 || tap_fail "setacl g:postfix"
	check "an ACL g:postfix:rw" 1 "its ACL lets group $(getent group postfix | cut -d: -f3) write"
	write_conf ""
	setacl "$C" 2 "$(id -u nobody)" 4
	check "an ACL u:nobody:r (read only)" 0 "configuration OK"
	mkdir -m 0755 "$D/acldir"; cp "$C" "$D/acldir/r.conf"; setfacl_dir=$D/acldir
	setacl "$setfacl_dir" 2 "$(id -u nobody)" 7
	out=$("$MILTER" -t -c "$D/acldir/r.conf" 2>&1); rc=$?
	tap_is "$rc" 1 "-t: a config in a directory whose ACL lets nobody write is refused"
	tap_like "$out" "the ACL of its directory $D/acldir lets user $(id -u nobody) write" "-t: and says why"
else
	tap_skip "ACLs" "the file system of $D has no POSIX ACLs"
fi
write_conf ""
mkdir -p "$D/owned/etc/relayguard"; chown nobody "$D/owned"
cp "$C" "$D/owned/etc/relayguard/r.conf"
out=$("$MILTER" -t -c "$D/owned/etc/relayguard/r.conf" 2>&1); rc=$?
tap_is "$rc" 1 "-t: a config two directories below one that nobody owns is refused"
tap_like "$out" "its directory $D/owned belongs to nobody" "-t: and says why (every parent is checked)"
out=$(cd "$D/owned/etc" && "$MILTER" -t -c relayguard/r.conf 2>&1); rc=$?
tap_is "$rc" 1 "-t: also with a relative path"

# At start: refused with the same reason, nothing opened.
write_conf ""
chmod 0646 "$C"
out=$(timeout 10 "$MILTER" -f -c "$C" 2>&1); rc=$?
tap_is "$rc" 1 "start: a world-writable config is refused"
tap_like "$out" "refused: writable by anybody" "start: with the reason"
tap_check "start: no socket was opened" test ! -e "$D/sock/milter.sock"

# At reload, the daemon running as nobody.
chmod 0644 "$C"
rg_spawn "$D/milter.log" "$MILTER" -f -c "$C"
MPID=$RG_SPAWN_PID
rg_retry 10 test -S "$D/sock/milter.sock" || tap_bail "milter did not start: $(cat "$D/milter.log")"
relay() { $RAW --socket "unix:$D/sock/milter.sock" --family 4 --addr 192.0.2.9 --rcpt '<x@victim.example>' 2>&1; }
tap_like "$(relay)" "reply 554" "running: a relay attempt is refused"

reload_and_wait() {	# N: wait for the Nth reload line (refused or done)
	kill -USR1 "$MPID"
	rg_retry 10 rg_count_ge "$1" grep -cE "reload refused|reloaded" "$D/milter.log" ||
		tap_diag "no reload line: $(tail -3 "$D/milter.log")"
}
sed -i 's/^Mode enforce/Mode log-only/' "$C"
chmod 0646 "$C"
reload_and_wait 1
tap_like "$(grep 'reload refused' "$D/milter.log" | tail -1)" "reload refused, keeping the running configuration: $C: refused: writable by anybody" \
	"reload: a world-writable config is refused with the reason"
tap_like "$(relay)" "reply 554" "reload: the running config (enforce) stays"
chmod 0644 "$C"; chown nobody "$C"
reload_and_wait 2
tap_like "$(grep 'reload refused' "$D/milter.log" | tail -1)" "$C: refused: it belongs to nobody" \
	"reload: a config the daemon's own user owns is refused (after the privilege drop)"
tap_like "$(relay)" "reply 554" "reload: still enforcing"
chown root "$C"
reload_and_wait 3
tap_like "$(tail -5 "$D/milter.log")" "reloaded" "reload: the trusted file is taken"
tap_like "$(relay)" "continue" "reload: now log-only"
rg_kill_pid "$MPID" 15
tap_done
