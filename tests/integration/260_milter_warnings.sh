#!/bin/bash
# A safe first run (issue 9): relayguard-milter -t warns, and the daemon
# logs at start, about a config that parses but would not do what its admin
# wants: TrustedNetworks containing 0.0.0.0/0 or ::/0 or wider than an IPv4
# /8 or an IPv6 /32; Mode enforce with neither LocalDomains nor RelayDomains
# (the shipped sample before the admin lists domains: all inbound mail
# refused); started as root without UserID, or with UserID root. -t still
# exits 0: these are warnings, not errors.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/milter/lib.sh

rg_built "$MILTER"
[ "$(id -u)" = 0 ] || { tap_skip "warnings" "needs root (UserID warnings)"; tap_done; exit; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rg-mwarn.XXXXXX") || tap_bail "mktemp"
chmod 755 "$D"
rg_cleanup_add "rm -rf '$D'"

t() {	# NAME CONFIG-LINES: -t's stderr, exit status in $rc
	printf '%s\n' "$2" >"$D/$1.conf"
	chmod 644 "$D/$1.conf"
	out=$("$MILTER" -t -c "$D/$1.conf" 2>&1 >/dev/null) && rc=0 || rc=$?
}
GOOD="LocalDomains site.example
UserID nobody"

t good "$GOOD
TrustedNetworks 127.0.0.0/8, ::1, 192.168.0.0/16, 2001:db8::/32"
tap_is "$rc:$out" "0:" "a good config: exit 0, no warning"
t any4 "$GOOD
TrustedNetworks 0.0.0.0/0"
tap_is "$rc:$out" "0:$D/any4.conf:3: warning: TrustedNetworks 0.0.0.0/0 lets every IPv4 client relay: this is an open relay" \
	"TrustedNetworks 0.0.0.0/0: warned with FILE:LINE of the item, exit 0"
t any6 "$GOOD
TrustedNetworks ::/0"
tap_like "$out" "warning: TrustedNetworks ::/0 lets every IPv6 client relay" "TrustedNetworks ::/0: warned"
t wide4 "$GOOD
TrustedNetworks 10.0.0.0/7"
tap_like "$out" "warning: TrustedNetworks 10.0.0.0/7 is wider than a /8" "TrustedNetworks 10.0.0.0/7: warned"
t wide6 "$GOOD
TrustedNetworks 2001:db8::/31"
tap_like "$out" "warning: TrustedNetworks 2001:db8::/31 is wider than a /32" "TrustedNetworks 2001:db8::/31: warned"
t nodomains "Mode enforce
UserID nobody"
tap_like "$out" "^$D/nodomains.conf:1: warning: Mode enforce with neither LocalDomains nor RelayDomains refuses every recipient" \
	"Mode enforce without LocalDomains and RelayDomains: warned, at the Mode line"
t logonly "Mode log-only
UserID nobody"
tap_is "$out" "" "Mode log-only without domains: no warning"
t nouser "LocalDomains site.example"
tap_like "$out" "^$D/nouser.conf: warning: started as root without UserID" "root without UserID: warned (about the file: no line)"
t rootuser "LocalDomains site.example
UserID root"
tap_like "$out" "^$D/rootuser.conf:2: warning: UserID root is root" "UserID root: warned at its line"
tap_is "$(runuser -u nobody -- "$MILTER" -t -c "$D/nouser.conf" 2>&1 >/dev/null)" "" \
	"not started as root: no UserID warning"

# Who can reach the socket can forge evidence (review 1, item 3).
t inetany "$GOOD
Socket inet:8894"
tap_like "$out" "^$D/inetany.conf:3: warning: Socket inet:8894 listens beyond this host \\(no @host: every interface\\)" \
	"Socket inet:PORT (every interface): warned at its line"
t inet0 "$GOOD
Socket inet:8894@0.0.0.0"
tap_like "$out" "warning: Socket inet:8894@0.0.0.0 listens beyond this host: whoever reaches it can ask for decisions and write forged relay events" \
	"Socket inet:PORT@0.0.0.0: warned"
t inet6any "$GOOD
Socket inet6:8894@[::]"
tap_like "$out" "warning: Socket inet6:8894@\\[::\\] listens beyond this host" "Socket inet6:PORT@[::]: warned"
t inetlo "$GOOD
Socket inet:8894@127.0.0.1"
tap_is "$out" "" "Socket inet:PORT@127.0.0.1: no warning"
t inet6lo "$GOOD
Socket inet6:8894@[::1]"
tap_is "$out" "" "Socket inet6:PORT@[::1]: no warning"
t unix666 "$GOOD
Socket unix:/run/relayguard/milter.sock
SocketMode 0666"
tap_like "$out" "^$D/unix666.conf:4: warning: SocketMode 0666 lets every local user connect to the milter and write forged relay events" \
	"a unix socket with SocketMode 0666: warned at the SocketMode line"
t unix660 "$GOOD
Socket unix:/run/relayguard/milter.sock
SocketMode 0660"
tap_is "$out" "" "a unix socket with SocketMode 0660: no warning"

# A public suffix as a domain of this site (review 1, item 6).
t psl "UserID nobody
LocalDomains .com, site.example, localhost
RelayDomains co.jp"
tap_like "$out" "$D/psl.conf:2: warning: LocalDomains \\.com: com is a public suffix \\(publicsuffix.org\\): every domain under it counts as yours" \
	"LocalDomains .com: warned at its line"
tap_like "$out" "$D/psl.conf:3: warning: RelayDomains co.jp is a public suffix" "RelayDomains co.jp: warned at its line"
tap_is "$(grep -c 'public suffix' <<<"$out")" 2 "site.example and localhost: not warned"

# A reload reads the config after the privilege drop (review 1, item 8).
t private "$GOOD"
chmod 0600 "$D/private.conf"
out=$("$MILTER" -t -c "$D/private.conf" 2>&1 >/dev/null)
tap_like "$out" "warning: UserID nobody cannot read $D/private.conf \\($D/private.conf is closed to it\\): every reload \\(SIGUSR1, systemctl reload\\) will fail" \
	"a config the UserID user cannot read (0600 root): warned"
mkdir -m 0700 "$D/closed"; echo site2.example >"$D/closed/domains"; chmod 644 "$D/closed/domains"
t closedlist "$GOOD
RelayDomains file:$D/closed/domains"
tap_like "$out" "$D/closedlist.conf:3: warning: UserID nobody cannot read the list file:$D/closed/domains \\($D/closed is closed to it\\)" \
	"a file: list in a directory the UserID user cannot enter: warned at the line naming it"
chmod 0755 "$D/closed"
t openlist "$GOOD
RelayDomains file:$D/closed/domains"
tap_is "$out" "" "the same list readable: no warning"

# An unknown UserID on a fresh box says how the account is made (issue 19).
t nosuchuser "LocalDomains site.example
Mode log-only
UserID rg-no-such-user:postfix"
tap_is "$rc:$out" "1:$D/nosuchuser.conf:3: UserID: unknown user 'rg-no-such-user': create it (adduser --system --group rg-no-such-user) or name an existing user" \
	"an unknown UserID: exit 1, FILE:LINE and how to create the user"
if getent passwd relayguard >/dev/null; then
	tap_skip "UserID relayguard missing: the sysusers hint" "this host has a relayguard user"
else
	t norelayguard "LocalDomains site.example
UserID relayguard:postfix"
	tap_is "$rc:$out" "1:$D/norelayguard.conf:2: UserID: unknown user 'relayguard': create it with systemd-sysusers (make install and the package put sysusers.d/relayguard.conf in place) or adduser --system --group relayguard" \
		"UserID relayguard before systemd-sysusers ran: the hint names systemd-sysusers and adduser"
fi

# -t on a file that is no config must not print what it holds (issue 19):
# not /etc/shadow, not a lone token, not a file: list pointing at secrets.
if [ -r /etc/shadow ]; then
	out=$("$MILTER" -t -c /etc/shadow 2>&1) && rc=0 || rc=$?
	tap_is "$rc:$out" '1:/etc/shadow:1: not a "Key value" line (is this a relayguard config?)' \
		"-t -c /etc/shadow: exit 1, no line of it echoed"
fi
printf '# token\nS3cretToken\n' >"$D/token"
chmod 600 "$D/token"
out=$("$MILTER" -t -c "$D/token" 2>&1) && rc=0 || rc=$?
tap_is "$rc:$out" "1:$D/token:2: not a \"Key value\" line (is this a relayguard config?)" \
	"-t on a token file: the lone word is not echoed"
printf 'root:$y$j9T$SeCrEtHaSh:20228:0:99999:7:::\n' >"$D/shadow"
chmod 600 "$D/shadow"
t shadowlist "$GOOD
RelayDomains file:$D/shadow"
tap_is "$rc:$out" "1:$D/shadow:1: not a list item (is this a list file?) (RelayDomains)" \
	"-t with a file: list that is a shadow file: its line is not echoed"

# The daemon logs them at start.
ml_start "TrustedNetworks 0.0.0.0/1
UserID root" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
rg_retry 5 grep -q "starting" "$ML_DIR/milter.log"
tap_like "$(grep warning "$ML_DIR/milter.log")" "warning: $ML_DIR/relayguard.conf:[0-9]+: TrustedNetworks 0.0.0.0/1 is wider than a /8" \
	"the daemon logs the TrustedNetworks warning at start, with FILE:LINE"
tap_like "$(grep warning "$ML_DIR/milter.log")" "UserID root is root" "and the UserID warning"
ml_stop
tap_done
