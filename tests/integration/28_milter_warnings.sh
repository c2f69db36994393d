#!/bin/bash
# A safe first run (issue 9): relayguard-milter -t warns, and the daemon
# logs at start, about a config that parses but would not do what its admin
# wants: TrustedNetworks containing 0.0.0.0/0 or ::/0 or wider than an IPv4
# /8 or an IPv6 /32; Mode enforce with neither LocalDomains nor RelayDomains
# (the shipped sample before the admin lists domains: all inbound mail
# refused); started as root without UserID, or with UserID root. -t still
# exits 0: these are warnings, not errors.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
source tests/lib/tap.sh
source tests/lib/common.sh
source tests/milter/lib.sh

[ -x "$MILTER" ] || tap_bail "$MILTER not built"
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
tap_is "$rc:$out" "0:$D/any4.conf: warning: TrustedNetworks 0.0.0.0/0 lets every IPv4 client relay: this is an open relay" \
	"TrustedNetworks 0.0.0.0/0: warned, exit 0"
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
tap_like "$out" "warning: Mode enforce with neither LocalDomains nor RelayDomains refuses every recipient" \
	"Mode enforce without LocalDomains and RelayDomains: warned"
t logonly "Mode log-only
UserID nobody"
tap_is "$out" "" "Mode log-only without domains: no warning"
t nouser "LocalDomains site.example"
tap_like "$out" "warning: started as root without UserID" "root without UserID: warned"
t rootuser "LocalDomains site.example
UserID root"
tap_like "$out" "warning: UserID root is root" "UserID root: warned"
tap_is "$(runuser -u nobody -- "$MILTER" -t -c "$D/nouser.conf" 2>&1 >/dev/null)" "" \
	"not started as root: no UserID warning"

# Who can reach the socket can forge evidence (review 1, item 3).
t inetany "$GOOD
Socket inet:8894"
tap_like "$out" "warning: Socket inet:8894 listens beyond this host \\(no @host: every interface\\)" \
	"Socket inet:PORT (every interface): warned"
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
tap_like "$out" "warning: SocketMode 0666 lets every local user connect to the milter and write forged relay events" \
	"a unix socket with SocketMode 0666: warned"
t unix660 "$GOOD
Socket unix:/run/relayguard/milter.sock
SocketMode 0660"
tap_is "$out" "" "a unix socket with SocketMode 0660: no warning"

# A public suffix as a domain of this site (review 1, item 6).
t psl "UserID nobody
LocalDomains .com, site.example, localhost
RelayDomains co.jp"
tap_like "$out" "warning: LocalDomains \\.com: com is a public suffix \\(publicsuffix.org\\): every domain under it counts as yours" \
	"LocalDomains .com: warned"
tap_like "$out" "warning: RelayDomains co.jp is a public suffix" "RelayDomains co.jp: warned"
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
tap_like "$out" "warning: UserID nobody cannot read the list file:$D/closed/domains \\($D/closed is closed to it\\)" \
	"a file: list in a directory the UserID user cannot enter: warned"
chmod 0755 "$D/closed"
t openlist "$GOOD
RelayDomains file:$D/closed/domains"
tap_is "$out" "" "the same list readable: no warning"

# The daemon logs them at start.
ml_start "TrustedNetworks 0.0.0.0/1
UserID root" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
rg_retry 5 grep -q "starting" "$ML_DIR/milter.log"
tap_like "$(grep warning "$ML_DIR/milter.log")" "warning: $ML_DIR/relayguard.conf: TrustedNetworks 0.0.0.0/1 is wider than a /8" \
	"the daemon logs the TrustedNetworks warning at start"
tap_like "$(grep warning "$ML_DIR/milter.log")" "UserID root is root" "and the UserID warning"
ml_stop
tap_done
