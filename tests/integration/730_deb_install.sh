#!/bin/bash
# rg-timeout: 600
# The Debian package (make deb) installed, removed and purged with dpkg in
# a throwaway Debian root: a minimal bookworm made by mmdebstrap from the
# package registry during make deps (scripts/deb-root.sh; this test has no
# network and only unpacks it), with systemd and postfix, chrooted into.
# The maintainer scripts run for real: systemd-sysusers makes the user,
# systemd-tmpfiles the directories (the socket's inside Postfix's chroot),
# deb-systemd-helper enables the unit. The milter then checks and runs the
# shipped config as it stands and puts its socket where Debian's chrooted
# smtpd finds it; dpkg -r keeps the conffiles, dpkg --purge leaves nothing
# but the system user (Debian's practice, README "Installing").
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

[ "$(id -u)" = 0 ] || { tap_skip "the .deb in a Debian root" "needs root (chroot, dpkg)"; tap_done; exit; }
. /etc/os-release
ROOT_TAR=${RG_DEBROOT_DIR:-/var/cache/relayguard/debroot}/$VERSION_CODENAME.tar
[ -s "$ROOT_TAR" ] || tap_bail "no Debian root $ROOT_TAR: run make deps (scripts/deb-root.sh)"
T=$(mktemp -d "${TMPDIR:-/tmp}/rg-deb.XXXXXX") || tap_bail "mktemp"
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$T'"

# make deb reuses the package while the sources are unchanged (make check
# builds it before the tests run); a changed tree is built here.
t0=$(rg_now_ms)
out=$(make -s --no-print-directory deb 2>&1)
tap_is "$?" 0 "make deb exits 0 (lintian clean but for documented overrides)" || { tap_diag "$out"; tap_done; exit 1; }
tap_diag "make deb: $(($(rg_now_ms) - t0)) ms: $(tail -1 <<<"$out")"
version=$(sed -n 's/^#define RG_VERSION[[:space:]]*"\(.*\)"$/\1/p' lib/base/version.h)
DEB=relayguard_${version}_$(dpkg --print-architecture).deb
tap_check "$DEB is built, named after RG_VERSION" test -s "$DEB"

R=$T/root
mkdir "$R" && tar -xf "$ROOT_TAR" -C "$R" || tap_bail "cannot unpack $ROOT_TAR"
# A command in the root, with /proc mounted (systemd-tmpfiles needs it) in
# a mount namespace of its own: the mount goes away with the command.
# Every exec in place: a command spawned so keeps its PID.
IN_ROOT=(unshare -m --propagation private -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$R")
in_root() { "${IN_ROOT[@]}" "$@"; }
snapshot() {	# every path in the root but /dev, /proc, /sys
	(cd "$R" && find . \( -path ./dev -o -path ./proc -o -path ./sys \) -prune -o -print | LC_ALL=C sort)
}
snapshot >"$T/before"

# --- dpkg -i ----------------------------------------------------------------------
cp "$DEB" "$R/tmp/" || tap_bail "cp $DEB"
out=$(in_root dpkg -i "/tmp/$DEB" 2>&1)
tap_is "$?" 0 "dpkg -i $DEB in the Debian root" ||
	tap_diag "$out (a missing library: add it to INCLUDE in scripts/deb-root.sh)"
rm -f "$R/tmp/$DEB"
tap_is "$(in_root dpkg-query -W -f='${Status} ${Version}' relayguard 2>&1)" "install ok installed $version" \
	"dpkg knows relayguard $version as installed"
tap_is "$(in_root dpkg-query -W -f='${Conffiles}\n' relayguard | awk 'NF {print $1}' | sort)" \
	"/etc/fail2ban/filter.d/relayguard.conf
/etc/fail2ban/jail.d/relayguard.conf
/etc/logrotate.d/relayguard
/etc/relayguard/relayguard.conf
/etc/relayguard/reporter.conf" "conffiles: relayguard.conf, reporter.conf, the logrotate snippet, the fail2ban filter and jail"
tap_check "/etc/relayguard/relayguard.conf is the sample" cmp conf/relayguard.conf "$R/etc/relayguard/relayguard.conf"
tap_check "/etc/relayguard/reporter.conf is the sample" cmp conf/reporter.conf "$R/etc/relayguard/reporter.conf"
tap_is "$(grep -E '^(Socket|Mode) ' "$R/etc/relayguard/relayguard.conf")" \
	"Socket unix:/var/spool/postfix/relayguard/milter.sock
Mode log-only" "the shipped config: socket inside Postfix's chroot, Mode log-only"
tap_like "$(grep -E '^smtpd_milters' "$R/usr/share/doc/relayguard/postfix-main.cf.snippet")" \
	'^smtpd_milters = unix:relayguard/milter.sock$' "the Postfix snippet names that socket as a chrooted smtpd sees it"
for f in usr/bin/relayguard-audit usr/bin/relayguard-report usr/sbin/relayguard-milter; do
	tap_check "$f is installed and executable" test -x "$R/$f"
done
for m in man1/relayguard-audit.1 man1/relayguard-report.1 man5/relayguard.conf.5 man8/relayguard-milter.8; do
	tap_like "$(zcat "$R/usr/share/man/$m.gz" 2>&1 | grep -m1 '^\.TH')" '^\.TH ' "man page $m"
done
UNIT=$(cd "$R" && ls {,usr/}lib/systemd/system/relayguard-milter.service 2>/dev/null | head -1)
tap_is "$(grep -E '^ExecStart=' "$R/$UNIT" 2>&1)" \
	"ExecStart=/usr/sbin/relayguard-milter -c /etc/relayguard/relayguard.conf" "the unit $UNIT starts /usr/sbin/relayguard-milter"
tap_check "the unit is enabled (dh_installsystemd's default; the config is log-only)" \
	test -L "$R/etc/systemd/system/multi-user.target.wants/relayguard-milter.service"
tap_like "$(in_root getent passwd relayguard | cut -d: -f3,6,7)" '^[0-9]{1,3}:/nonexistent:/usr/sbin/nologin$' \
	"systemd-sysusers made the system user relayguard (uid below 1000, no home, no shell)"
tap_is "$(in_root stat -c '%n %a %U %G' /run/relayguard /var/log/relayguard /var/spool/postfix/relayguard 2>&1)" \
	"/run/relayguard 755 relayguard relayguard
/var/log/relayguard 750 relayguard relayguard
/var/spool/postfix/relayguard 750 relayguard postfix" \
	"systemd-tmpfiles made /run/relayguard, /var/log/relayguard and the socket directory in Postfix's chroot"

# --- the shipped config, as it stands ----------------------------------------------
out=$(in_root relayguard-milter -t 2>&1)
tap_is "$?" 0 "relayguard-milter -t accepts /etc/relayguard/relayguard.conf" || tap_diag "$out"
rg_spawn "$T/milter.log" "${IN_ROOT[@]}" /usr/sbin/relayguard-milter -f -c /etc/relayguard/relayguard.conf
MPID=$RG_SPAWN_PID
SOCK=$R/var/spool/postfix/relayguard/milter.sock
rg_retry 10 test -S "$SOCK" || tap_diag "milter: $(cat "$T/milter.log")"
tap_is "$(in_root stat -c '%a %U %G' /var/spool/postfix/relayguard/milter.sock 2>&1)" \
	"660 relayguard postfix" "the milter runs the shipped config: its socket 0660 relayguard:postfix in /var/spool/postfix/relayguard"
tap_is "$(awk '/^Uid:/ {print $2}' "/proc/$MPID/status" 2>&1)" "$(in_root id -u relayguard)" \
	"and it runs as relayguard"
rg_kill_pid "$MPID" 15

# --- an edited conffile survives a reinstall ---------------------------------------
echo "# the admin's own line" >>"$R/etc/relayguard/relayguard.conf"
cp "$DEB" "$R/tmp/" || tap_bail "cp $DEB"
out=$(in_root dpkg -i "/tmp/$DEB" 2>&1 </dev/null)
tap_is "$?" 0 "dpkg -i again over an edited relayguard.conf (no prompt: the package's copy is unchanged)" || tap_diag "$out"
rm -f "$R/tmp/$DEB"
tap_is "$(tail -1 "$R/etc/relayguard/relayguard.conf")" "# the admin's own line" "the admin's relayguard.conf is kept"

# --- dpkg -r, dpkg --purge ----------------------------------------------------------
out=$(in_root dpkg -r relayguard 2>&1)
tap_is "$?" 0 "dpkg -r relayguard" || tap_diag "$out"
tap_is "$(in_root dpkg-query -W -f='${Status}' relayguard 2>&1)" "deinstall ok config-files" \
	"removed, its conffiles kept"
tap_check "/etc/relayguard/relayguard.conf stays after dpkg -r" test -s "$R/etc/relayguard/relayguard.conf"
tap_check "the programs are gone" test ! -e "$R/usr/sbin/relayguard-milter" -a ! -e "$R/usr/bin/relayguard-audit"
echo '{"event":"relay_refused"}' >"$R/var/log/relayguard/events.jsonl"

out=$(in_root dpkg --purge relayguard 2>&1)
tap_is "$?" 0 "dpkg --purge relayguard" || tap_diag "$out"
tap_like "$(in_root dpkg-query -W relayguard 2>&1)" "no packages found" "dpkg no longer knows relayguard"
for p in etc/relayguard usr/share/doc/relayguard "$UNIT" etc/systemd/system/multi-user.target.wants/relayguard-milter.service \
	var/log/relayguard run/relayguard var/spool/postfix/relayguard; do
	tap_check "purged: no /$p" test ! -e "$R/$p" -a ! -L "$R/$p"
done
tap_like "$(in_root getent passwd relayguard | cut -d: -f1)" '^relayguard$' \
	"the system user relayguard stays (Debian does not reuse a uid that files may still carry)"
# Every path the purge left that was not there before: dpkg's own books,
# the user's entries (the account files and their backups) and nothing else.
snapshot >"$T/after"
left=$(comm -13 "$T/before" "$T/after" | grep -vE '^\./var/lib/dpkg/|^\./var/log/dpkg\.log$|^\./etc/(passwd|group|shadow|gshadow)-$')
tap_is "$left" "" "nothing else is left in the root" || tap_diag "$left"

# --- the snippet's smtpd_milters line, from a chrooted smtpd -----------------------
# A real Postfix whose smtpd runs chrooted in its queue directory, as in
# Debian's master.cf, with the snippet's smtpd_milters line as shipped and
# the shipped config with only the queue directory moved to the instance's:
# the relative socket name must reach the milter (else: 451, tempfail).
source tests/lib/postfix.sh
if [ ! -x "$BUILD/relayguard-milter" ] || ! getent group postfix >/dev/null; then
	tap_skip "a chrooted smtpd reaches the milter through the snippet's line" "no $BUILD/relayguard-milter or no group postfix"
	tap_done
	exit
fi
line=$(grep -E '^smtpd_milters = ' conf/postfix-main.cf.snippet)
PF_MAIN_EXTRA="$line
milter_default_action = tempfail" pf_start closed || tap_bail "cannot start Postfix"
sed -i -E "s/^(127\.0\.0\.1:$PF_PORT[[:space:]]+inet[[:space:]]+n[[:space:]]+-[[:space:]]+)n /\1y /" "$PF_CONF/master.cf"
tap_like "$(grep -E "^127\.0\.0\.1:$PF_PORT" "$PF_CONF/master.cf")" ' y +- +- +smtpd$' "smtpd runs chrooted (master.cf)"
pf_reload
U=relayguard
getent passwd relayguard >/dev/null || U=nobody
sed -e "s|/var/spool/postfix/|$PF_QUEUE_DIR/|" -e "s|/run/relayguard|$T/run|g" -e "s|^UserID relayguard:|UserID $U:|" \
	-e "s|^TrustedNetworks .*|TrustedNetworks 127.0.0.1/32|" conf/relayguard.conf >"$T/relayguard.conf"
chmod 644 "$T/relayguard.conf"
rg_spawn "$T/host-milter.log" "$BUILD/relayguard-milter" -f -c "$T/relayguard.conf"
HPID=$RG_SPAWN_PID
rg_retry 10 test -S "$PF_QUEUE_DIR/relayguard/milter.sock" || tap_diag "milter: $(cat "$T/host-milter.log")"
out=$(pf_swaks --local-interface 127.0.0.2 --from a@other.example --to postmaster@site.example 2>&1)
tap_like "$out" '<-  250 2\.0\.0 Ok: queued' "$line: the chrooted smtpd reaches the milter (not 451)" ||
	tap_diag "$(grep -E '<~?\*' <<<"$out"; tail -5 "$PF_LOG" 2>/dev/null)"
tap_check "and the milter saw the mail (relay_would_refuse, LocalDomains still empty)" \
	rg_retry 5 grep -q 'event=relay_would_refuse .*postmaster@site.example' "$T/host-milter.log"
rg_kill_pid "$HPID" 15
tap_done
