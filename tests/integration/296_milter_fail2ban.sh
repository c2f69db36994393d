#!/bin/bash
# The firewall half of the 1997 fix: the shipped fail2ban filter and jail
# (packaging/fail2ban/) read relayguard-milter's event log and ban an abuser
# with Debian's nftables action, in a network namespace this test makes
# (its own loopback, its own nftables ruleset: the host's firewall is never
# touched). A real Postfix + relayguard-milter + fail2ban-server:
#   - a client that only sends to local recipients is never banned;
#   - an abuser (127.0.0.2) making refused relay attempts is banned: its TCP
#     connect to the SMTP port fails, other clients still get a greeting;
#   - a HELO forging '"client_addr":"127.0.0.3"' bans nobody but the sender;
#   - the ban ends after bantime;
#   - relayguard-report blocklist turns the same log into a Postfix cidr:
#     table (check_client_access refuses the abuser, postscreen's form reads
#     "reject") and into CIDR lines that fill an nftables set;
#   - the relayguard-boxed jail bans on the penalty box's verdict alone
#     (abuser_boxed), and blocklist lists the boxed network, never an
#     address of the reporter profile's OwnAuditors.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

# Re-run inside a fresh network namespace (root only: CI runs as root).
if [ -z "${RG_IN_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! unshare --net true 2>/dev/null; then
		echo "1..0 # SKIP needs root and network namespaces (unshare --net)"
		exit 0
	fi
	RG_IN_NETNS=1 exec unshare --net bash "$0" "$@"
fi
ip link set lo up || { echo "Bail out! cannot bring up lo in the namespace"; exit 1; }

source tests/lib/postfix.sh
source tests/milter/lib.sh
source tests/lib/fail2ban.sh

rg_built "$MILTER"
for c in fail2ban-server fail2ban-client nft swaks; do
	command -v "$c" >/dev/null || tap_bail "$c not installed (make deps)"
done

# the penalty box: high enough that part 1 never boxes (127.0.0.2 makes 6)
ml_start "Mode enforce
AbuserThreshold 8
AbuserPrefix4 32" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail" pf_start open || tap_bail "cannot start Postfix (open)"

# --- a private fail2ban: Debian's config, the shipped filter and jail -------
# A short ban so the test sees it end (long enough for a loaded machine,
# where each fail2ban-client call takes seconds).
BANTIME=45
f2b_start relayguard "$ML_DIR/events.jsonl" "$PF_PORT" "maxretry = 5
bantime  = $BANTIME" || tap_bail "fail2ban did not start"
tap_check "fail2ban runs the shipped relayguard jail" f2b status relayguard

# can ADDR open a TCP connection to the SMTP port and read a 220?
greets() {
	python3 - "$1" "$PF_HOST" "$PF_PORT" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.bind((sys.argv[1], 0))
    s.connect((sys.argv[2], int(sys.argv[3])))
    sys.exit(0 if s.recv(512).startswith(b"220") else 1)
except OSError:
    sys.exit(1)
EOF
}
no_greeting() { ! greets "$1"; }
send() {	# FROM-ADDR RCPT [swaks args]: one transaction
	local from=$1 rcpt=$2; shift 2
	pf_swaks --local-interface "$from" --from sender@outside.example \
		--to "$rcpt" "$@" >/dev/null 2>&1
}

# --- a client that only sends local mail is never banned ---------------------
for i in 1 2 3 4 5 6 7; do send 127.0.0.3 root@mail.site.example; done
tap_is "$(ml_event_count relay_refused)" 0 "local mail from 127.0.0.3 makes no relay_refused event"

# --- the abuser, with a HELO that names another address ----------------------
tap_check "before the attempts, 127.0.0.2 gets a greeting" greets 127.0.0.2
for i in 1 2 3 4 5 6; do
	send 127.0.0.2 "victim$i@victim.example" \
		--ehlo 'x","client_addr":"127.0.0.3'
done
tap_like "$(ml_event_count relay_refused)" '^([6-9]|[1-9][0-9]+)$' \
	"the milter logged the refused relay attempts"
tap_check "fail2ban bans 127.0.0.2 after 5 refused relay attempts" \
	rg_retry 30 f2b_is_banned 127.0.0.2
tap_check "the banned abuser gets no SMTP greeting" rg_retry 10 no_greeting 127.0.0.2 ||
	tap_diag "$(nft list ruleset)"
tap_check "the ban is an nftables rule (Debian's nftables action)" \
	sh -c "nft list ruleset | grep -q '127.0.0.2'"
tap_check "another client still gets a greeting" greets 127.0.0.3
tap_unlike "$(f2b_banned)" '127\.0\.0\.3' "the address forged in the HELO is not banned"

# --- the ban ends after bantime -------------------------------------------------
tap_check "after bantime ($BANTIME s) 127.0.0.2 is unbanned and greeted again" \
	rg_retry $((BANTIME + 30)) greets 127.0.0.2
tap_unlike "$(f2b_banned)" '127\.0\.0\.2' "fail2ban lists no ban any more"

f2b_stop

# --- relayguard-report blocklist: the same log as Postfix and nftables input --
BL=$PF_DIR/relayguard-block.cidr
bl() { "$REPORT" blocklist --events "$ML_DIR/events.jsonl" --min-refused 5 "$@"; }
bl -o "$BL"
tap_is "$?" 0 "blocklist -o writes the Postfix table"
tap_like "$(grep -v '^#' "$BL")" '^127\.0\.0\.2/32 +REJECT 5\.7\.1 ' "the abuser is listed with a REJECT"
tap_unlike "$(cat "$BL")" '127\.0\.0\.3|victim[0-9]@|sender@outside' \
	"neither the local sender's address nor a recipient or sender appears"
tap_like "$(bl --min-refused 7 -f cidr)" '^$' "below --min-refused nobody is listed"
tap_like "$(bl --exclude 127.0.0.0/29 -f cidr 2>&1)" 'not listed: --exclude' \
	"an --exclude'd address is not listed, and it says so"
tap_is "$(postmap -c "$PF_CONF" -q 127.0.0.2 "cidr:$(bl -f postscreen -o "$BL.ps" && echo "$BL.ps")")" \
	reject "postscreen's form: postmap finds 'reject' for the abuser"
pf_postconf "smtpd_client_restrictions = check_client_access cidr:$BL" ||
	tap_diag "postconf failed"
send 127.0.0.2 root@mail.site.example
tap_like "$(pf_swaks --local-interface 127.0.0.2 --from a@outside.example \
	--to root@mail.site.example 2>&1)" '<\*\* 554 5\.7\.1 .*Access denied: relay abuse' \
	"Postfix with check_client_access refuses the listed abuser with the table's reply"
tap_check "and still takes local mail from another client" \
	send 127.0.0.3 root@mail.site.example
nft add table inet rgtest && nft add set inet rgtest block '{ type ipv4_addr; flags interval; }' &&
	nft add chain inet rgtest input '{ type filter hook input priority 0; }' &&
	nft add rule inet rgtest input ip saddr @block tcp dport "$PF_PORT" reject
elems=$(bl -f cidr | grep -v : | paste -sd, -)
tap_check "the cidr lines load into an nftables set as printed" \
	nft add element inet rgtest block "{ $elems }"
tap_check "the abuser in that set gets no SMTP greeting" no_greeting 127.0.0.2
tap_check "another client still gets a greeting" greets 127.0.0.3
nft delete table inet rgtest

# --- the relayguard-boxed jail: the milter's verdict bans ---------------------
f2b_start relayguard-boxed "$ML_DIR/events.jsonl" "$PF_PORT" "bantime = 300" ||
	tap_bail "fail2ban (relayguard-boxed) did not start"
for i in 1 2 3 4 5 6 7; do send 127.0.0.4 "victim$i@victim.example"; done
tap_is "$(f2b_banned)" "[]" "7 refused attempts (below AbuserThreshold 8): the boxed jail bans nobody"
send 127.0.0.4 victim8@victim.example
tap_like "$(jq -r 'select(.event=="abuser_boxed") | .source' "$ML_DIR/events.jsonl")" '^127\.0\.0\.4/32$' \
	"the 8th refused attempt boxes 127.0.0.4 (abuser_boxed)"
tap_check "the relayguard-boxed jail bans it on that one event" rg_retry 30 f2b_is_banned 127.0.0.4
tap_check "and it gets no SMTP greeting" rg_retry 10 no_greeting 127.0.0.4
f2b_stop
printf 'Organisation = Example\nOwnAuditors = 127.0.0.2\n' >"$ML_DIR/reporter.conf"
out=$(bl --reporter "$ML_DIR/reporter.conf" 2>"$ML_DIR/bl.err")
tap_like "$out" $'# 127\\.0\\.0\\.4/32: [0-9]+ refused relay attempt\\(s\\), boxed by relayguard-milter' \
	"blocklist lists the boxed source and says it was boxed"
tap_is "$(grep -c '^127\.0\.0\.2/' <<<"$out")" 0 "an address in OwnAuditors is never listed"
tap_like "$(cat "$ML_DIR/bl.err")" '127\.0\.0\.2: not listed: --exclude or OwnAuditors' "and it says so"
tap_done
