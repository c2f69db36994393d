#!/bin/bash
# scripts/demo.sh - `make demo`: the 1997 open-relay incident and its fix,
# reproduced on a private Postfix on loopback (REFERENCE.md section 1).
#
#   1. a Postfix that relays for anyone (mynetworks = 0.0.0.0/0), with
#      relayguard-milter attached as in production, in log-only mode;
#   2. relayguard-audit proves it is an open relay;
#   3. a "spammer" at 127.0.0.2 relays a burst to unreachable outside
#      domains with a forged sender: bounces and double bounces pile up for
#      postmaster/root, the milter raises the bounce-storm alarm;
#   4. the first half of the 1997 fix, filter the abuser: the milter switched
#      to enforce refuses the spammer's next burst and its penalty box boxes
#      it; fail2ban (the shipped filter and relayguard-boxed jail, Debian's
#      nftables action) bans it at the firewall: its next connection gets no
#      SMTP greeting at all;
#   5. the second half: the mynetworks line the auditor recommended; the
#      auditor (AbuserExempt, never boxed) again: closed; with the firewall
#      ban lifted, the spammer's next burst is still refused 554 5.7.1 (the
#      penalty box holds it for an hour);
#   6. the notification for the spammer's address (English and Japanese):
#      e-mail body, IODEF, X-ARF, IntelMQ JSON, from the milter's event log.
# Evidence goes to $DEMO_OUT (default ./demo-out): audit reports (text, JSON,
# IODEF), the milter's event log, the bounce series, an HTML report, the
# notifications (notify-en/, notify-ja/). Reports name the reporter of
# conf/reporter.conf (times in Asia/Tokyo, recipients and internal host names
# withheld from notifications). The auditor tests from 127.0.0.3, another
# outside address, so the spammer's notification holds only the spammer.
set -u
cd "$(dirname "$0")/.." || exit 1
# The firewall step bans with nftables: it runs in a network namespace of
# its own (its own loopback and ruleset, never the host's) when it can.
if [ -z "${RG_DEMO_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null &&
	command -v fail2ban-server >/dev/null && command -v nft >/dev/null; then
	RG_DEMO_NETNS=1 exec unshare --net bash "$0" "$@"
fi
[ -n "${RG_DEMO_NETNS:-}" ] && ip link set lo up
BUILD=${BUILD:-build}
AUDIT=$BUILD/relayguard-audit
REPORT=$BUILD/relayguard-report
OUT=${DEMO_OUT:-$PWD/demo-out}
N=${DEMO_N:-60}			# messages in the spammer's first burst
# Never delete what is not ours: reuse $OUT only if a demo made it.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
	[ -f "$OUT/.relayguard-demo" ] || { echo "demo: $OUT exists and is not a demo directory" >&2; exit 1; }
	rm -f "$OUT"/*
fi
mkdir -p "$OUT" && touch "$OUT/.relayguard-demo" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh
source tests/lib/dns.sh
source tests/lib/fail2ban.sh

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
step() { printf '\n'; bold "== Step $1: $2"; }
die() { echo "demo: $*" >&2; exit 1; }
T0=$(rg_now_ms)
elapsed() { local ms=$(( $(rg_now_ms) - T0 )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
bounces() { echo $(( $(pf_log_count 'sender non-delivery notification') + \
	$(pf_log_count 'postmaster non-delivery notification') )); }
mailbox_kb() { du -sk "$PF_MAIL_DIR/root" 2>/dev/null | awk '{print $1}' | grep . || echo 0; }

REPORTER=conf/reporter.conf
SERIES=$OUT/bounces.csv
echo "seconds,phase,bounces" > "$SERIES"
PHASE=storm
sample() { echo "$(elapsed),$PHASE,$(bounces)" >> "$SERIES"; }

audit() {	# NAME: audit the company's mail domain from the outsider's address
	local a=(-s 127.0.0.3 --reporter "$REPORTER" -p "$PF_PORT" -d victim.example --mx --nameserver "$DNS_NS"
		--dnsbl bl.example site.example)
	"$AUDIT" -T "${a[@]}" > "$OUT/audit-$1.txt"
	local rc=$?
	# --mx: -f json is an array, one result per MX address; site.example
	# has one MX host with one address, and its result is what the
	# reporter compares (--before/--after take one result object)
	"$AUDIT" -T -f json "${a[@]}" > "$OUT/audit-$1.all.json"
	jq '.[0]' "$OUT/audit-$1.all.json" > "$OUT/audit-$1.json"
	"$AUDIT" -f iodef --tlp amber "${a[@]}" > "$OUT/audit-$1.iodef.xml"
	return $rc
}

milter_conf() {	# MODE
	sed -i "s/^Mode .*/Mode $1/" "$ML_DIR/relayguard.conf"
}

bold "relayguard demo: the 1997 spam-relay incident, reproduced on this machine (loopback only)"
echo "A company's mail server relayed a US provider's spam; the undeliverable copies came back"
echo "as ~100 MB of bounces to root. We rebuild that server, catch it, and close it."

# --- 1 --------------------------------------------------------------------------
step 1 "a mail server configured the way the abused one was"
dns_start scripts/demo-dns/site.example.zone scripts/demo-dns/127.zone \
	scripts/demo-dns/bl.example.zone >/dev/null || die "cannot start the local DNS (nsd)"
echo "local DNS: NSD on $DNS_NS serving site.example (MX mail.site.example = 127.0.0.1,"
echo "  SPF \"v=spf1 mx -all\"), its reverse zone and a blocklist bl.example - nothing leaves the machine"
ml_start "Mode log-only
BounceSummaryInterval 10" || die "relayguard-milter did not start: $(cat "$ML_DIR/milter.log" 2>/dev/null)"
PF_SINK_MODE=reject PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
non_smtpd_milters = unix:$ML_SOCK
internal_mail_filter_classes = bounce, notify
notify_classes = resource, software, 2bounce
milter_default_action = tempfail" pf_start open >/dev/null || die "cannot start Postfix"
echo "Postfix $(postconf -d -h mail_version) on 127.0.0.1:$PF_PORT, myhostname $PF_MYHOSTNAME"
echo "  mynetworks = $(postconf -c "$PF_CONF" -h mynetworks)   <- trusts the whole Internet"
echo "  relayhost  = $(postconf -c "$PF_CONF" -h relayhost)   <- the 'Internet': answers 550 5.4.4 Host or domain name not found"
echo "  notify_classes = resource, software, 2bounce   <- double bounces go to postmaster (root), as in 1997"
echo "relayguard-milter (pid $ML_PID) attached as smtpd_milters and non_smtpd_milters, Mode log-only"
sample

# --- 2 --------------------------------------------------------------------------
step 2 "relayguard-audit: is it an open relay?"
echo "\$ relayguard-audit -s 127.0.0.3 --reporter $REPORTER -p $PF_PORT -d victim.example --mx --nameserver $DNS_NS --dnsbl bl.example site.example"
audit before; rc=$?
sample
grep -E '^  (MX|PTR|DNSBL|SPF): ' "$OUT/audit-before.txt"
sed -n '/^Verdict:/,/^$/p' "$OUT/audit-before.txt"
echo "exit status $rc (2 = open_relay). The decisive probe, as the server saw it:"
jq -r '(.tests | map(select(.data=="taken")) | first) as $p |
	[.transcript[]] as $tx |
	([range(0; $tx|length) | select($tx[.].dir==">" and $tx[.].line==("MAIL FROM:"+$p.mail_from)
		and $tx[.+2].line==("RCPT TO:"+$p.rcpt_to) and $tx[.].time >= $p.start)] | first) as $i |
	$tx[$i:] | (map(.line | test("connection closed")) | index(true)) as $j |
	.[0:$j+1][] | "  \(.time) \(.dir) \(.line)"' "$OUT/audit-before.json"
sed -n '/^Recommended fix/,/^$/p' "$OUT/audit-before.txt"
[ "$rc" = 2 ] || die "expected the open server to be found open (exit 2), got $rc"

# --- 3 --------------------------------------------------------------------------
step 3 "the spammer relays $N messages through it; watch root's mailbox"
echo "127.0.0.2 sends $N messages, forged sender forged@spoofed.example, to user{i}@victim{1,2,3}.example"
sample
python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 --sender forged@spoofed.example \
	--rcpt 'user{i}@victim{m}.example' --domains 3 --count "$N" --timeout 60 > "$OUT/spammer-1.txt" &
spammer=$!
rg_cleanup_add "rg_kill_pid $spammer"
storm_at=
for _ in $(seq 240); do	# bounded: 240 x 0.25 s
	sample
	if [ -z "$storm_at" ] && grep -q '"event":"bounce_storm"' "$ML_DIR/events.jsonl" 2>/dev/null; then
		storm_at=$(elapsed)
		bold "  t=${storm_at}s  relayguard-milter: BOUNCE STORM"
		jq -r 'select(.event=="bounce_storm") | "    \(.reason)\n    window \(.window_seconds) s, \(.count) bounces, clients: \([.original_clients[]?.value]|join(", ")), failed domains: \([.failed_domains[]?.value]|join(", ")), status \(.dominant_status) \(.dominant_diagnostic)"' "$ML_DIR/events.jsonl"
	fi
	b=$(bounces)
	if [ $((${b} % 20)) -lt 3 ] || [ "$b" -ge $((2 * N)) ]; then
		printf '  t=%ss  bounces+double bounces: %3d   root mailbox: %3d messages, %4s KB   queue: %d\n' \
			"$(elapsed)" "$b" "$(pf_mailbox_count root)" "$(mailbox_kb)" "$(pf_queue_count)"
	fi
	[ "$b" -ge $((2 * N)) ] && [ -n "$storm_at" ] && break
	sleep 0.25
done
wait "$spammer"
echo "spammer: $(cat "$OUT/spammer-1.txt")"
[ -n "$storm_at" ] || die "no bounce-storm event"
storm_before=$(bounces)

# --- 4 --------------------------------------------------------------------------
step 4 "filter the abuser: the milter refuses, fail2ban bans it at the firewall"
PHASE=filtered
firewall=
if [ -n "${RG_DEMO_NETNS:-}" ]; then
	# /etc/fail2ban/jail.d/relayguard.local as an admin writes it; the
	# server itself and our own auditor (127.0.0.3) are never banned
	f2b_start relayguard-boxed "$ML_DIR/events.jsonl" "$PF_PORT" \
		"ignoreip = 127.0.0.1 127.0.0.3" && firewall=1
fi
cat > "$OUT/filter-applied.txt" <<EOF
# relayguard.conf: the milter refuses unauthorised relaying itself
# (defence in depth: it holds even while the MTA is misconfigured)
Mode enforce
# the penalty box: 5 refused relay attempts within 10 minutes box a source
# for an hour; never our own auditor
AbuserThreshold 5
AbuserExempt 127.0.0.3
# /etc/fail2ban/jail.d/relayguard.local: ban what the milter boxed
[relayguard-boxed]
enabled = true
EOF
sed 's/^/  /' "$OUT/filter-applied.txt"
milter_conf enforce
printf 'AbuserThreshold 5\nAbuserExempt 127.0.0.3\n' >> "$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 5 grep -q 'reload' "$ML_DIR/milter.log" &&
	echo "  milter reloaded (SIGUSR1): Mode enforce, penalty box at 5 attempts"
python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 --sender forged@spoofed.example \
	--rcpt 'user{i}@victim{m}.example' --domains 3 --count 5 --timeout 30 -v > "$OUT/spammer-milter.txt" 2>&1
echo "  Postfix still open, milter enforcing: spammer $(tail -1 "$OUT/spammer-milter.txt")"
grep -m1 -o '5[0-9][0-9] 5\.7\.1[^"]*' "$OUT/spammer-milter.txt" | sed 's/^/    server says: /'
rg_retry 10 grep -q '"event":"abuser_boxed"' "$ML_DIR/events.jsonl" &&
	jq -r 'select(.event=="abuser_boxed") | "  t='"$(elapsed)"'s  relayguard-milter: \(.event) \(.source): \(.reason)"' "$ML_DIR/events.jsonl"
if [ -n "$firewall" ] && rg_retry 30 f2b_is_banned 127.0.0.2; then
	echo "  t=$(elapsed)s  fail2ban: 127.0.0.2 banned (jail relayguard-boxed, Debian's nftables action):"
	nft list ruleset | grep -E 'elements|saddr' | sed 's/^[[:space:]]*/    /'
	if python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 \
		--sender forged@spoofed.example --rcpt 'user{i}@victim{m}.example' --count 1 \
		--timeout 5 > "$OUT/spammer-banned.txt" 2>&1 &&
		grep -q '^accepted=1' "$OUT/spammer-banned.txt"; then
		die "the banned spammer still reached Postfix: $(cat "$OUT/spammer-banned.txt")"
	fi
	echo "  the spammer's next connection gets no SMTP greeting: $(grep -o 'Connection refused' \
		"$OUT/spammer-banned.txt" || tail -1 "$OUT/spammer-banned.txt")"
elif [ -n "$firewall" ]; then
	die "fail2ban did not ban 127.0.0.2: $(tail -5 "$F2B_DIR/fail2ban.log")"
else
	echo "  (the firewall half needs root, network namespaces, fail2ban and nftables: skipped)"
fi
for _ in $(seq 8); do sample; sleep 0.25; done

# --- 5 --------------------------------------------------------------------------
step 5 "fix the relay, and prove it closed"
PHASE=fixed
FIX_TIME=$(date +%Y-%m-%dT%H:%M:%S.%3N%:z)
cat > "$OUT/fix-applied.txt" <<EOF
# Postfix main.cf, as relayguard-audit recommended (127.0.0.2 plays the
# outside world here, so only 127.0.0.1 is "our network"):
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
EOF
sed 's/^/  /' "$OUT/fix-applied.txt"
pf_postconf "mynetworks = 127.0.0.1/32" >/dev/null || die "postconf failed"
echo "  Postfix: mynetworks = $(postconf -c "$PF_CONF" -h mynetworks), reloaded"
audit after; rc=$?
sed -n '/^Verdict:/,/^$/p' "$OUT/audit-after.txt"
echo "exit status $rc (0 = closed)"
[ "$rc" = 0 ] || die "expected closed (exit 0) after the fix, got $rc"
sample
if [ -n "$firewall" ]; then
	# the firewall would drop the burst before smtpd sees it
	f2b_stop
	echo "fail2ban stopped (its ban lifted), to show what the server says to the spammer now:"
fi
python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 --sender forged@spoofed.example \
	--rcpt 'user{i}@victim{m}.example' --domains 3 --count 12 --timeout 30 -v > "$OUT/spammer-2.txt" 2>&1
echo "the spammer's next burst: $(tail -1 "$OUT/spammer-2.txt")"
grep -m1 -o '5[0-9][0-9] 5\.7\.1[^"]*' "$OUT/spammer-2.txt" | sed 's/^/  server says: /'
for _ in $(seq 12); do sample; sleep 0.25; done
echo "bounces before the fix: $storm_before, now: $(bounces) (no new ones)"
echo "relay attempts the milter logged for 127.0.0.2 since the fix: $(jq -c --arg t "$FIX_TIME" 'select((.event|test("^relay_")) and .client_addr=="127.0.0.2" and .time >= $t)' "$ML_DIR/events.jsonl" | wc -l), e.g.:"
jq -r --arg t "$FIX_TIME" 'select((.event|test("^relay_refused")) and .client_addr=="127.0.0.2" and .time >= $t) | "  \(.time) \(.event) client=\(.client_addr) helo=\(.helo) from=\(.sender) rcpt=\(.recipient): \(.reason)"' "$ML_DIR/events.jsonl" | sed -n '1p;$p'
jq -r 'select(.event=="relay_summary") | "  milter summary: \(.reason)"' "$ML_DIR/events.jsonl" | tail -1


# --- evidence -------------------------------------------------------------------
cp "$ML_DIR/events.jsonl" "$OUT/milter-events.jsonl"
cat "$OUT/filter-applied.txt" "$OUT/fix-applied.txt" > "$OUT/fixes-applied.txt"
cp "$PF_LOG" "$OUT/postfix-maillog"
"$REPORT" --reporter "$REPORTER" --before "$OUT/audit-before.json" --after "$OUT/audit-after.json" \
	--series "$SERIES" --fix "$OUT/fixes-applied.txt" --storm "$OUT/milter-events.jsonl" \
	> "$OUT/report.html" || die "relayguard-report failed"
if xmllint --nonet --noout --schema schemas/iodef/iodef-2.0-offline.xsd \
	"$OUT/audit-before.iodef.xml" 2>/dev/null; then
	echo "IODEF report validates against the IODEF 2.0 schema"
fi
if command -v chromium >/dev/null; then
	# no name resolution, no proxy to reach: the page must render from itself
	profile=$(mktemp -d "${TMPDIR:-/tmp}/rg-chromium.XXXXXX")
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-pings --host-resolver-rules="MAP * ~NOTFOUND" --proxy-server=127.0.0.1:9 \
		--user-data-dir="$profile" --window-size=1100,1500 \
		--screenshot="$OUT/report.png" "file://$OUT/report.html" >/dev/null 2>&1
	rm -rf "$profile"
fi

# --- 6 --------------------------------------------------------------------------
step 6 "the notification for the spammer's address, for its provider or a CSIRT"
for lang in en ja; do
	"$REPORT" notify --events "$OUT/milter-events.jsonl" --reporter "$REPORTER" \
		--source 127.0.0.2 --victim 127.0.0.1 --victim-port "$PF_PORT" --request contact \
		--lang "$lang" --out "$OUT/notify-$lang" > "$OUT/notify-$lang.log" 2>&1 ||
		die "relayguard-report notify --lang $lang failed: $(cat "$OUT/notify-$lang.log")"
done
echo "\$ relayguard-report notify --events milter-events.jsonl --reporter $REPORTER --source 127.0.0.2 --request contact --lang en|ja --out notify-en|notify-ja"
sed 's/^/  /' "$OUT/notify-en.log"
ls "$OUT/notify-en" | sed 's/^/  notify-en\//'
echo "--- notify-en/127.0.0.2.txt (first lines) ---"
head -32 "$OUT/notify-en/127.0.0.2.txt"
echo "--- notify-ja/127.0.0.2.txt (first lines) ---"
head -32 "$OUT/notify-ja/127.0.0.2.txt"
echo "---"

f2b_stop
ml_stop
pf_stop
dns_stop
step "done" "in $(elapsed) s; the evidence is in $OUT"
ls -1 "$OUT" | sed 's/^/  /'
