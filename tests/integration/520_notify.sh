#!/bin/bash
# relayguard-report notify (issue 12): a real Postfix with relayguard-milter
# records relay attempts from two outside clients; the notifier turns the
# milter's event log into one notification per source: IODEF 2.0 (valid
# against RFC 7970's schema), X-ARF v4 (valid against the published JSON
# schema), IntelMQ JSON (every key and type per IntelMQ's harmonization), and
# the e-mail body in the JPCERT/CC report shape. The counts and the time
# span match the log; the disclosure filter removes recipient addresses and
# internal host names; --network groups by /24.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
XSD=schemas/iodef/iodef-2.0-offline.xsd
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-notify.XXXXXX")
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$TMP'"

ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail" pf_start open || tap_bail "cannot start Postfix"

# 127.0.0.2: a spammer, 6 messages to secret recipients in two domains
python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.2 --sender spam@spammer.example \
	--rcpt 'secret{i}@victim{m}.example' --domains 2 --count 6 --timeout 30 > "$TMP/send.out"
tap_like "$(cat "$TMP/send.out")" '^accepted=0 refused=6' "the milter refuses the spammer's 6 relay attempts"
# 127.0.0.3: one attempt whose HELO is one of our internal host names
pf_swaks --local-interface 127.0.0.3 --helo gw7.site.example --from x@other.example \
	--to private-person@victim1.example > "$TMP/swaks.out" 2>&1
# 127.0.0.4: our own relayguard-audit of this server (issue 19): the
# profile lists it in OwnAuditors, so it is "own audit", never abuse
timeout 120 "$BUILD/relayguard-audit" -s 127.0.0.4 -p "$PF_PORT" -t 5 --budget 60 \
	-d victim.example 127.0.0.1 > "$TMP/own-audit.out" 2>&1
ml_stop
cp "$ML_DIR/events.jsonl" "$TMP/milter-events.jsonl"
EV=$TMP/milter-events.jsonl	# a copy in this test's own directory
cp "$EV" "$TMP/events.jsonl"
echo 'this line is not JSON' >> "$TMP/events.jsonl"

cat > "$TMP/reporter.conf" <<'CONF'
Organisation = Example Corp.
ContactName = Hanako Yamada
Email = security@site.example
Phone = +81-3-0000-0000
TimeZone = Asia/Tokyo
TLP = amber
Disclosure = ask
Withhold = recipients, internal-hosts
InternalDomains = site.example
OwnAuditors = 127.0.0.4, 2001:db8:1::/64
CONF
OUT=$TMP/out
"$REPORT" notify --events "$TMP/events.jsonl" --reporter "$TMP/reporter.conf" --out "$OUT" \
	--victim 127.0.0.1 --victim-port "$PF_PORT" --request contact > "$TMP/notify.out" 2> "$TMP/notify.err"
tap_is "$?" 0 "relayguard-report notify exits 0"
tap_like "$(cat "$TMP/notify.err")" '1 of [0-9]+ lines are not event-log JSON' "a broken log line is skipped with a warning"
for src in 127.0.0.2 127.0.0.3; do
	tap_check "$src: e-mail body, IODEF, X-ARF and IntelMQ files written" \
		test -s "$OUT/$src.txt" -a -s "$OUT/$src.iodef.xml" -a -s "$OUT/$src.xarf.json" -a -s "$OUT/$src.intelmq.json"
done

# --- our own audit: reported apart, never as abuse (issue 19) ---------------------
nown=$(jq -s '[.[] | select(.client_addr=="127.0.0.4" and (.event|test("^relay_")) and .event!="relay_summary")] | length' "$EV")
tap_like "$nown" '^[1-9][0-9]*$' "the milter recorded our own audit's $nown relay attempts from 127.0.0.4"
tap_check "no abuse notification for our own auditor (OwnAuditors)" test ! -e "$OUT/127.0.0.4.txt"
tap_unlike "$(cat "$OUT/intelmq.jsonl")" '127\.0\.0\.4' "nor an IntelMQ event"
tap_like "$(cat "$TMP/notify.err")" "127\\.0\\.0\\.4: own audit \\(OwnAuditors of the reporter profile\\): $nown relay attempts, [0-9T:.+-]+ \\.\\. [0-9T:.+-]+; not reported as abuse" \
	"it is reported separately as own audit, with its count and time span"
"$REPORT" notify --events "$TMP/events.jsonl" --reporter "$TMP/reporter.conf" --source 127.0.0.4 \
	--network > "$TMP/own.out" 2> "$TMP/own.err"
tap_is "$(cat "$TMP/own.out")" "" "--source 127.0.0.4 --network: still no abuse report (not grouped into 127.0.0.0/24)"
tap_like "$(cat "$TMP/own.err")" '127\.0\.0\.4: own audit' "but the own audit line"
grep -v '^OwnAuditors' "$TMP/reporter.conf" > "$TMP/noown.conf"
"$REPORT" notify --events "$TMP/events.jsonl" --reporter "$TMP/noown.conf" --source 127.0.0.4 > "$TMP/noown.out" 2>/dev/null
tap_like "$(cat "$TMP/noown.out")" "recorded $nown relay attempts" "without OwnAuditors the same events read as abuse (what the key prevents)"
printf 'OwnAuditors = 127.0.0.4, not-an-address\n' > "$TMP/badown.conf"
"$REPORT" notify --events "$TMP/events.jsonl" --reporter "$TMP/badown.conf" > /dev/null 2> "$TMP/badown.err"
tap_isnt "$?" 0 "a bad OwnAuditors item is an error"
tap_like "$(cat "$TMP/badown.err")" "badown\\.conf:1: OwnAuditors: 'not-an-address'" "naming file, line and item"

# --- counts and time span match the event log -----------------------------------
want=$(jq -s '[.[] | select(.client_addr=="127.0.0.2" and (.event|test("^relay_")) and .event!="relay_summary")] | length' "$EV")
tap_is "$want" 6 "the event log holds 6 relay events for 127.0.0.2"
tap_is "$(jq '."extra.relay_attempts"' "$OUT/127.0.0.2.intelmq.json")" "$want" "IntelMQ JSON counts them"
tap_like "$(cat "$OUT/127.0.0.2.txt")" "recorded $want relay attempts from this source \\($want refused, 0 logged" \
	"the e-mail body counts them"
first=$(jq -r -s '[.[] | select(.client_addr=="127.0.0.2")] | first | .time' "$EV")
last=$(jq -r -s '[.[] | select(.client_addr=="127.0.0.2")] | last | .time' "$EV")
jst() { TZ=Asia/Tokyo date -d "$1" "+%Y-%m-%dT%H:%M:%S\.%3N\\+09:00"; }
tap_like "$(cat "$OUT/127.0.0.2.txt")" "first: $(jst "$first")" "first time, in the reporter's zone (JST)"
tap_like "$(cat "$OUT/127.0.0.2.txt")" "last:  $(jst "$last")" "last time"
tap_like "$(cat "$OUT/127.0.0.2.txt")" 'times are JST \(Asia/Tokyo, UTC\+09:00\)' "the zone of the times is stated"
tap_like "$(cat "$OUT/127.0.0.2.txt")" 'Clock of the mail server when the log was recorded: clock ' \
	"the mail server's clock state (from the milter's start event) is stated"
for section in '1\. Classification' '2\. Reporter' '4\. Time' '5\. What happened and how it was found' \
	'6\. What we request' '7\. Disclosure conditions' '8\. Log excerpt'; do
	tap_like "$(cat "$OUT/127.0.0.2.txt")" "$section" "the body has the section $section"
done
tap_like "$(cat "$OUT/127.0.0.2.txt")" 'Please contact the site\(s\) responsible' "--request contact is stated"
pid=$(jq -r 'select(.event=="milter_start") | .pid' "$EV" | head -1)
tap_like "$(cat "$OUT/127.0.0.2.txt")" "[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]{8} [^ ]+ relayguard-milter\\[$pid\\]: time=[0-9T:.+-]+ event=relay_refused" \
	"the log excerpt is in syslog form with the milter's pid and ISO 8601 times"

# --- formats ---------------------------------------------------------------------
tap_check "IODEF (127.0.0.2) validates against the IODEF 2.0 schema" \
	xmllint --nonet --noout --schema "$XSD" "$OUT/127.0.0.2.iodef.xml" "$OUT/127.0.0.3.iodef.xml"
xp() { xmllint --nonet --xpath "$1" "$OUT/127.0.0.2.iodef.xml" 2>/dev/null; }
tap_is "$(xp 'string(//*[local-name()="System"][@category="source"]//*[local-name()="Address"])')" 127.0.0.2 "IODEF source System: the abusing client"
tap_is "$(xp 'string(//*[local-name()="System"][@category="target"]//*[local-name()="Port"])')" "$PF_PORT" "IODEF target System: our server and its port"
tap_is "$(xp 'string(//*[local-name()="Expectation"]/@action)')" contact-source-site "IODEF Expectation follows --request contact"
tap_is "$(xp 'string(//*[local-name()="Incident"]/@restriction)')" amber "IODEF restriction is the TLP"
tap_is "$(xp 'string(//*[local-name()="Contact"][@role="creator"]/*[local-name()="ContactName"])')" "Example Corp." "IODEF names the reporter"
tap_check "X-ARF reports validate against the X-ARF v4 schema (schemas/xarf)" \
	python3 tests/xarf/validate_xarf.py "$OUT/127.0.0.2.xarf.json" "$OUT/127.0.0.3.xarf.json"
port=$(jq -r 'select(.client_addr=="127.0.0.2" and .event=="relay_refused") | .client_port' "$EV" | head -1)
tap_like "$port" '^[0-9]+$' "the milter records the client port ($port)"
tap_is "$(jq -r '[.source_identifier, .source_port, .category, .type, .protocol, .smtp_from] | join(" ")' "$OUT/127.0.0.2.xarf.json")" \
	"127.0.0.2 $port messaging spam smtp spam@spammer.example" "X-ARF: messaging/spam over smtp from the client's port"
tap_check "IntelMQ JSON: every key and value type is IntelMQ's (harmonization.conf)" \
	python3 tests/intelmq/check_harmonization.py "$OUT/intelmq.jsonl" "$OUT/127.0.0.2.intelmq.json"
tap_is "$(jq -r '[."source.ip", ."classification.taxonomy", ."classification.type", ."classification.identifier", ."protocol.application"] | join(" ")' "$OUT/127.0.0.2.intelmq.json")" \
	"127.0.0.2 abusive-content spam openrelay smtp" "IntelMQ classification of a relaying source"
tap_is "$(wc -l < "$OUT/intelmq.jsonl")" 2 "intelmq.jsonl has one line per source"

# --- the disclosure filter --------------------------------------------------------
all=$(cat "$OUT"/*.txt "$OUT"/*.xml "$OUT"/*.json "$OUT"/intelmq.jsonl; for f in "$OUT"/*.xarf.json; do jq -r '.evidence[].payload' "$f" | base64 -d; done)
tap_like "$(grep -c 'secret[0-9]@victim[12]\.example' "$EV")" '^[1-9]' "the event log holds the recipient addresses"
tap_unlike "$all" 'secret[0-9]+@|private-person@' "no recipient address reaches any output (Withhold = recipients)"
tap_like "$all" '\[recipient withheld\]' "where they were, the output says they were withheld"
tap_like "$(jq -r 'select(.client_addr=="127.0.0.3") | .helo' "$EV" | head -1)" 'gw7\.site\.example' "the event log holds the internal HELO name"
tap_unlike "$all" 'gw7\.site\.example|mail\.site\.example' "no internal host name reaches any output (Withhold = internal-hosts)"
tap_like "$(cat "$OUT/127.0.0.3.txt")" '\[internal host withheld\]' "it is replaced by a marker"
tap_like "$(cat "$OUT/127.0.0.2.txt")" 'Withheld from this notification: recipient addresses; internal host names;' \
	"the body says what was withheld"
sed -i 's/^Withhold.*/Withhold = none/' "$TMP/reporter.conf"
"$REPORT" notify --events "$TMP/events.jsonl" --reporter "$TMP/reporter.conf" --out "$TMP/open" \
	--victim 127.0.0.1 > /dev/null 2>&1
tap_like "$(cat "$TMP/open/127.0.0.2.txt")" 'secret[0-9]@victim[12]\.example' "without Withhold the recipients are shown (the filter did the removing)"

# --- grouping by network -----------------------------------------------------------
"$REPORT" notify --events "$TMP/events.jsonl" --reporter "$TMP/reporter.conf" --out "$TMP/net" --network > "$TMP/net.out" 2>/dev/null
tap_is "$(ls "$TMP/net" | grep -c '\.txt$')" 1 "--network: one notification for 127.0.0.0/24"
tap_is "$(jq '."extra.relay_attempts"' "$TMP/net/127.0.0.0_24.intelmq.json")" "$((want + 1))" "covering both clients' attempts"
tap_check "and its IODEF validates" xmllint --nonet --noout --schema "$XSD" "$TMP/net/127.0.0.0_24.iodef.xml"
tap_is "$(xmllint --nonet --xpath 'string(//*[local-name()="System"][@category="source"]//*[local-name()="Address"]/@category)' "$TMP/net/127.0.0.0_24.iodef.xml")" \
	ipv4-net "the source System is the network"

# --- no profile: still works, says so ----------------------------------------------
"$REPORT" notify --events "$TMP/events.jsonl" --out "$TMP/anon" > /dev/null 2>&1
tap_like "$(cat "$TMP/anon/127.0.0.2.txt")" 'reporter not identified' "without a reporter profile the body says so"
tap_check "and the X-ARF still validates" python3 tests/xarf/validate_xarf.py "$TMP/anon/127.0.0.2.xarf.json"
"$REPORT" notify --events "$TMP/nonexistent.jsonl" --out "$TMP/x" > /dev/null 2> "$TMP/err"
tap_isnt "$?" 0 "a missing event log is an error"
tap_like "$(cat "$TMP/err")" 'nonexistent\.jsonl: cannot open' "naming the file"
# --- the filter works on raw values: quoted, non-ASCII and backslash addresses -----
# (the key=value escaping must not hide a recipient from it), and internal host
# names in the syslog host column, our own host name and the events path
mkdir -p "$TMP/mx1.site.example"
HEV=$TMP/mx1.site.example/hostile.jsonl
cat > "$HEV" <<'JSON'
{"time":"2026-06-23T12:30:00.000+09:00","event":"milter_start","host":"mx1.site.example","pid":4242,"clock":"synchronised"}
{"time":"2026-06-23T12:35:00.000+09:00","event":"relay_refused","host":"mx1.site.example","action":"reject","client_addr":"192.0.2.7","client_name":"unknown","helo":"spam.example","sender":"<a@spam.example>","recipient":"<\"john smith\"@victim.example>","mode":"enforce","client_port":40000,"reason":"x"}
{"time":"2026-06-23T12:36:00.000+09:00","event":"relay_refused","host":"mx1.site.example","action":"reject","client_addr":"192.0.2.7","client_name":"unknown","helo":"spam.example","sender":"<a@spam.example>","recipient":"<山田太郎@victim.example>","mode":"enforce","client_port":40001,"reason":"x"}
{"time":"2026-06-23T12:37:00.000+09:00","event":"relay_refused","host":"mx1.site.example","action":"reject","client_addr":"192.0.2.7","client_name":"unknown","helo":"spam.example","sender":"<a@spam.example>","recipient":"<bob\\smith@victim.example>","mode":"enforce","client_port":40002,"reason":"recipient <BOB\\SMITH@VICTIM.EXAMPLE> via relay.site.example"}
JSON
grep -v '^Email' "$TMP/reporter.conf" | sed 's/^Withhold.*/Withhold = recipients, internal-hosts/' > "$TMP/noemail.conf"
if unshare -ru true 2>/dev/null; then
	unshare -ru sh -c 'hostname gw7.site.example && exec "$@"' sh "$REPORT" notify --events "$HEV" \
		--reporter "$TMP/noemail.conf" --out "$TMP/hostile" --victim mx1.site.example > /dev/null 2>&1
else
	"$REPORT" notify --events "$HEV" --reporter "$TMP/noemail.conf" --out "$TMP/hostile" \
		--victim mx1.site.example > /dev/null 2>&1
fi
H=$TMP/hostile/192.0.2.7
hall="$(cat "$H.txt" "$H.iodef.xml" "$H.intelmq.json" "$H.xarf.json"; jq -r '.evidence[].payload' "$H.xarf.json" | base64 -d)"
tap_like "$(cat "$H.txt")" 'relayguard-milter\[4242\]' "hostile recipients: the excerpt is written"
tap_unlike "$hall" 'john|smith|SMITH|山田|5c71|u5c' "quoted, non-ASCII and backslash recipients are withheld in every output (body, IODEF, X-ARF evidence)"
tap_unlike "$(grep 'relayguard-milter\[' "$H.txt")" '^... .. ..:..:.. mx1 ' "the syslog host column does not keep an internal short name"
tap_like "$(grep -m1 'relayguard-milter\[' "$H.txt")" '^... .. ..:..:.. \[internal-host-withheld\] relayguard-milter' "it says (in one word) the host was withheld"
tap_unlike "$hall" 'mx1|gw7|site\.example' "no internal host name (event host, our host name, the events path) reaches any output"
tap_check "the hostile IODEF validates" xmllint --nonet --noout --schema "$XSD" "$H.iodef.xml"
tap_check "the hostile X-ARF validates" python3 tests/xarf/validate_xarf.py "$H.xarf.json"
# the milter's host is our mail server: under internal-hosts its name is
# withheld in the host= field and the host column alike, also as a short
# name under no InternalDomains, and in free text (issue 19)
cat > "$TMP/short.jsonl" <<'JSON'
{"time":"2026-06-23T12:35:00.000+09:00","event":"relay_refused","host":"mxshort","action":"reject","client_addr":"192.0.2.8","helo":"spam.example","sender":"<a@spam.example>","recipient":"<r@victim.example>","mode":"enforce","reason":"relay refused by mxshort"}
JSON
"$REPORT" notify --events "$TMP/short.jsonl" --reporter "$TMP/noemail.conf" --out "$TMP/short" > /dev/null 2>&1
S=$TMP/short/192.0.2.8
sall="$(cat "$S.txt" "$S.iodef.xml" "$S.intelmq.json" "$S.xarf.json"; jq -r '.evidence[].payload' "$S.xarf.json" | base64 -d)"
tap_unlike "$sall" 'mxshort' "a short host name of the milter reaches no output (host=, host column, reason)"
tap_like "$(grep -m1 'relayguard-milter:' "$S.txt")" '^... .. ..:..:.. \[internal-host-withheld\] relayguard-milter: .* host=\[internal-host-withheld\] ' \
	"the host column and host= carry the same marker"
tap_unlike "$(cat "$S.txt")" "$TMP|short\\.jsonl" "the body names no local path of the analyst's machine"

pf_stop
tap_done
