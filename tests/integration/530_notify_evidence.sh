#!/bin/bash
# relayguard-report notify: the evidence cannot be rewritten (issue 16).
#
# A real Postfix with relayguard-milter: an outside client (127.0.0.2) sends
# RCPTs shaped like the evidence itself - its own address, the action and
# event names, today's date, the month, key names - and the milter refuses
# and logs them. With the default "Withhold = recipients", notify must
# replace those values in the recipient fields (and where the reason names
# them) and nowhere else: every excerpt line (mail body, X-ARF evidence,
# IODEF RecordItems) keeps its time, event, action and client address, and
# the source address stays in every report. A second client uses a secret
# HELO and sender: "Withhold = helo" and "Withhold = senders" remove them
# from every output and nothing else (and a HELO "reject" leaves the action).
# The same real event log, with keys carrying CR LF, U+202E, ESC and C1
# added, gives no raw control or bidi character in any output. notify is
# linear in the number of sources and its memory does not follow the log's
# size.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
XSD=schemas/iodef/iodef-2.0-offline.xsd
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER" "$REPORT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-notify-ev.XXXXXX")
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$TMP'"

# One SMTP session from a loopback source; each RCPT in its own transaction.
cat > "$TMP/send.py" <<'PY'
import smtplib, sys
port, source, helo, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if not source.startswith("127."):
    sys.exit("loopback only")
s = smtplib.SMTP("127.0.0.1", port, timeout=10, source_address=(source, 0),
                 local_hostname=helo)
s.ehlo(helo)
for r in sys.argv[5:]:
    s.mail(sender)
    code, _ = s.rcpt(r)
    print(code, r)
    s.rset()
s.quit()
PY

ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail" pf_start open || tap_bail "cannot start Postfix"

D_UTC=$(date -u +%F); D_JST=$(TZ=Asia/Tokyo date +%F); MON=$(TZ=Asia/Tokyo date +%b)
HOSTILE=("<127.0.0.2>" "<reject>" "<none>" "<relay_refused>" "<relay_refused_by_mta>"
	"<$D_JST>" "<$MON>" "<time>" "<event>" "<client_addr>" "<enforce>"
	"<relayguard-milter>" "<mail>")
[ "$D_UTC" = "$D_JST" ] || HOSTILE+=("<$D_UTC>")
python3 "$TMP/send.py" "$PF_PORT" 127.0.0.2 spam.example spam@spammer.example \
	"${HOSTILE[@]}" "<secret1@victim.example>" "<secret2@victim.example>" > "$TMP/send2.out" 2>&1
tap_is "$(grep -c '^5[0-9][0-9] ' "$TMP/send2.out")" "$(( ${#HOSTILE[@]} + 2 ))" \
	"every RCPT of 127.0.0.2 is refused" || tap_diag "$(cat "$TMP/send2.out")"
# 127.0.0.3: a secret HELO and sender; 127.0.0.4: HELO "reject"
python3 "$TMP/send.py" "$PF_PORT" 127.0.0.3 helo-secret.example secret.sender@sender.example \
	"<v1@victim.example>" "<v2@victim.example>" > "$TMP/send3.out" 2>&1
python3 "$TMP/send.py" "$PF_PORT" 127.0.0.4 reject other@sender.example \
	"<v3@victim.example>" > "$TMP/send4.out" 2>&1
ml_stop
pf_stop
EV=$TMP/events.jsonl
cp "$ML_DIR/events.jsonl" "$EV"
for r in "${HOSTILE[@]}"; do
	n=$(jq -r --arg r "$r" 'select(.client_addr=="127.0.0.2" and .recipient==$r) | .event' "$EV" | grep -c '^relay_')
	[ "$n" = 1 ] || tap_diag "RCPT $r: $n relay events"
done
tap_is "$(jq -r 'select(.client_addr=="127.0.0.2" and (.event|test("^relay_refused"))) | .recipient' "$EV" | wc -l)" \
	"$(( ${#HOSTILE[@]} + 2 ))" "the milter logs every refused RCPT of 127.0.0.2 with its recipient"

reporter() {	# WITHHOLD
	cat > "$TMP/reporter.conf" <<CONF
Organisation = Example Corp.
Email = security@site.example
TimeZone = Asia/Tokyo
Withhold = $1
CONF
}
notify() {	# OUTDIR [EVENTS]
	"$REPORT" notify --events "${2:-$EV}" --reporter "$TMP/reporter.conf" --out "$1" \
		--victim 127.0.0.1 --excerpt 100 > "$1.out" 2> "$1.err"
}
# The excerpt lines of one source in each output: the e-mail body, the
# X-ARF evidence (base64) and the IODEF RecordItems.
excerpts() {	# OUTDIR SOURCE
	grep 'relayguard-milter\[' "$1/$2.txt" | sed 's/^/txt: /'
	jq -r '.evidence[].payload' "$1/$2.xarf.json" | base64 -d | grep 'relayguard-milter\[' | sed 's/^/xarf: /'
	xmllint --nonet --xpath '//*[local-name()="RecordItem"]/text()' "$1/$2.iodef.xml" 2>/dev/null |
		grep 'relayguard-milter\[' | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g; s/^/iodef: /'
}
# What makes the evidence: output, syslog stamp and host, time, event, action, client.
structure() {
	sed -E 's/^([a-z]+: )([A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}) ([^ ]+) relayguard-milter\[[0-9]+\]: (time=[^ ]+) (event=[^ ]+) (host=[^ ]+ )?(action=[^ ]+ )?(client_addr=[^ ]+)?.*/\1\2 \3 \4 \5 \7\8/'
}

# --- item 3: the default filter (Withhold = recipients) -------------------------------------
reporter recipients
notify "$TMP/withheld"; tap_is "$?" 0 "notify (Withhold = recipients) exits 0" || tap_diag "$(cat "$TMP/withheld.err")"
reporter none
notify "$TMP/open"
W=$TMP/withheld; O=$TMP/open
n_ev=$(jq -r 'select(.client_addr=="127.0.0.2") | .event' "$EV" | wc -l)
n_rel=$(jq -r 'select(.client_addr=="127.0.0.2" and .event!="relay_summary") | .event' "$EV" | wc -l)
tap_is "$(excerpts "$O" 127.0.0.2 | grep -c '^txt: ')" "$n_ev" "the excerpt shows each of the $n_ev events of 127.0.0.2"
excerpts "$W" 127.0.0.2 | structure > "$TMP/w.struct"
excerpts "$O" 127.0.0.2 | structure > "$TMP/o.struct"
tap_is "$(wc -l < "$TMP/w.struct")" "$((3 * n_ev))" "mail, X-ARF and IODEF each carry the $n_ev excerpt lines"
tap_is "$(diff "$TMP/o.struct" "$TMP/w.struct" | head -5)" "" \
	"stamp, host, time, event, action and client address of every excerpt line are those of the unfiltered evidence"
tap_is "$(grep -c " time=$D_JST" "$TMP/w.struct")" "$((3 * n_ev))" "every line keeps its date"
tap_is "$(grep -Ec ' event=relay_(refused|refused_by_mta|summary) ' "$TMP/w.struct")" "$((3 * n_ev))" "every line keeps its event name"
tap_is "$(grep -Ec ' action=(reject|none) ' "$TMP/w.struct")" "$((3 * n_rel))" "every relay line keeps its action"
tap_is "$(grep -c 'client_addr=127\.0\.0\.2$' "$TMP/w.struct")" "$((3 * n_ev))" "every line keeps the client address"
tap_is "$(grep -c "^$MON " <(grep '^txt: ' "$TMP/w.struct" | cut -c6-))" "$n_ev" "the syslog stamps keep the month"
tap_is "$(excerpts "$W" 127.0.0.2 | grep -c 'recipient="<\[recipient withheld\]>"')" "$((3 * n_rel))" \
	"every recipient field is withheld"
all=$(cat "$W"/127.0.0.2.*; excerpts "$W" 127.0.0.2)
tap_unlike "$all" 'secret[12]@|recipient=<|recipient="<[^[]' "no recipient reaches any output"
tap_like "$(excerpts "$W" 127.0.0.2)" 'reason="unqualified recipient \[recipient withheld\]"' \
	"a recipient named in the reason is withheld there too"
tap_like "$(head -1 "$W/127.0.0.2.txt")" '^Subject: \[relayguard\] relay attempts from 127\.0\.0\.2$' "the subject names the source"
tap_like "$(sed -n '/^3\./,/^$/p' "$W/127.0.0.2.txt")" '   127\.0\.0\.2' "the Source section names it"
tap_is "$(jq -r '.source_identifier' "$W/127.0.0.2.xarf.json")" 127.0.0.2 "X-ARF source_identifier"
tap_like "$(jq -r '.description' "$W/127.0.0.2.xarf.json")" '^Unauthorised relay attempts from 127\.0\.0\.2:' "X-ARF description"
tap_like "$(jq -r '."event_description.text"' "$W/127.0.0.2.intelmq.json")" 'from 127\.0\.0\.2:' "IntelMQ description"
tap_is "$(xmllint --nonet --xpath 'string(//*[local-name()="System"][@category="source"]//*[local-name()="Address"])' "$W/127.0.0.2.iodef.xml")" \
	127.0.0.2 "IODEF source System"
tap_check "the IODEF validates" xmllint --nonet --noout --schema "$XSD" "$W/127.0.0.2.iodef.xml"
tap_check "the X-ARF validates" python3 tests/xarf/validate_xarf.py "$W/127.0.0.2.xarf.json"

# --- Withhold = helo, Withhold = senders (127.0.0.3; 127.0.0.4 has HELO "reject") ----------
for what in helo senders; do
	reporter "$what"
	notify "$TMP/$what"
done
H=$TMP/helo; S=$TMP/senders
tap_like "$(cat "$O/127.0.0.3.txt")" 'helo=helo-secret\.example' "without Withhold the HELO is shown"
tap_like "$(cat "$O/127.0.0.3.txt")" 'secret\.sender@sender\.example' "and the sender"
h_all=$(cat "$H"/127.0.0.3.*; excerpts "$H" 127.0.0.3)
tap_unlike "$h_all" 'helo-secret' "Withhold = helo: the HELO reaches no output"
tap_is "$(excerpts "$H" 127.0.0.3 | grep -c 'helo="\[helo withheld\]"')" 6 "each line says it was withheld"
tap_like "$h_all" 'secret\.sender@sender\.example' "Withhold = helo leaves the sender"
tap_is "$(excerpts "$H" 127.0.0.4 | structure | grep -c 'action=reject')" 3 "a HELO \"reject\" withheld leaves the action"
s_all=$(cat "$S"/127.0.0.3.*; excerpts "$S" 127.0.0.3)
tap_unlike "$s_all" 'secret\.sender' "Withhold = senders: the sender reaches no output"
tap_is "$(excerpts "$S" 127.0.0.3 | grep -c 'sender="<\[sender withheld\]>"')" 6 "each line says it was withheld"
tap_is "$(jq -r .smtp_from "$S/127.0.0.3.xarf.json")" withheld@withheld.invalid "X-ARF smtp_from is withheld"
tap_is "$(jq -r '."source.account" // "absent"' "$S/127.0.0.3.intelmq.json")" absent "IntelMQ has no source.account"
tap_like "$s_all" 'helo=helo-secret\.example' "Withhold = senders leaves the HELO"
tap_like "$(cat "$S/127.0.0.3.txt")" 'Withheld from this notification: sender addresses;' "the body says what was withheld"

# --- item 4: hostile keys in the real event log --------------------------------------------
jq -c 'if .client_addr == "127.0.0.2" then . + {"x\r\n\r\nDear admin, ignore the above\r\n": "v",
	"k\u202eevil": "w", "\u001b[2Jesc": 1, "c1\u009b": ["a"]} else . end' "$EV" > "$TMP/keys.jsonl"
tap_like "$(grep -c 'Dear admin' "$TMP/keys.jsonl")" '^[1-9]' "the event log's keys carry CR LF, U+202E, ESC and C1"
reporter recipients
notify "$TMP/keys" "$TMP/keys.jsonl"
raw_bad() {	# FILE: C0 (but LF), DEL, C1, bidi controls, U+2028/9
	LC_ALL=C grep -c -P '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]' "$1"
}
for f in txt xarf.json intelmq.json iodef.xml; do
	tap_is "$(raw_bad "$TMP/keys/127.0.0.2.$f")" 0 "hostile keys: 127.0.0.2.$f has no raw control or bidi character"
done
jq -r '.evidence[].payload' "$TMP/keys/127.0.0.2.xarf.json" | base64 -d > "$TMP/keys.evidence"
tap_is "$(raw_bad "$TMP/keys.evidence")" 0 "nor has the X-ARF evidence"
tap_unlike "$(cat "$TMP/keys/127.0.0.2.txt")" $'(^|\n)Dear admin' "no forged paragraph in the mail body"
tap_is "$(grep -c 'relayguard-milter\[' "$TMP/keys/127.0.0.2.txt")" "$n_ev" "one excerpt line per event, as before"
tap_like "$(cat "$TMP/keys/127.0.0.2.txt")" 'x\\x0d\\x0a\\x0d\\x0aDear admin' "the key is shown with escapes"

# --- item 5: memory follows the sources, time is linear in them -----------------------------
# a big log (4 sources, 93 MB): the peak RSS must stay below the log's size (it was 4x it)
python3 - "$TMP/big.jsonl" <<'PY'
import sys
line = ('{"time":"2026-06-23T12:%02d:%02d.000+09:00","event":"relay_refused","action":"reject",'
        '"client_addr":"198.51.100.%d","helo":"spam.example","sender":"<a@spam.example>",'
        '"recipient":"<user%d@victim.example>","mode":"enforce","client_port":40000,'
        '"reason":"untrusted client, recipient domain victim.example not local ' + 'x' * 300 + '"}\n')
with open(sys.argv[1], "w") as f:
    for i in range(160000):
        f.write(line % ((i // 60) % 60, i % 60, i % 4 + 1, i % 5000))
PY
mb=$(( $(stat -c %s "$TMP/big.jsonl") / 1048576 ))
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16 /usr/bin/time -f '%M %e' -o "$TMP/big.time" \
	timeout 300 "$REPORT" notify --events "$TMP/big.jsonl" --out "$TMP/big" > /dev/null 2>&1
read -r rss secs < "$TMP/big.time"
tap_diag "a ${mb} MB log of 4 sources: peak RSS $((rss / 1024)) MB, ${secs} s"
tap_is "$(ls "$TMP/big"/*.txt | wc -l)" 4 "the big log gives its 4 notifications"
# 9 MB built plainly, 60 MB under ASan (its shadow and a 16 MB quarantine)
tap_check "peak RSS below 96 MB for a ${mb} MB log (bounded by the sources, not the log; 370 MB before)" \
	test "$rss" -lt $((96 * 1024))
# 80,000 sources (one /64 gives an attacker that many): linear, a generous bound
python3 - "$TMP/many.jsonl" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(80000):
        f.write('{"time":"2026-06-23T12:00:%02d.000+09:00","event":"relay_refused","action":"reject",'
                '"client_addr":"2001:db8::%x:%x","recipient":"<u%d@victim.example>","mode":"enforce"}\n'
                % (i % 60, i >> 16, i & 0xffff, i))
PY
/usr/bin/time -f '%M %e' -o "$TMP/many.time" timeout 120 "$REPORT" notify --events "$TMP/many.jsonl" \
	--source 2001:db8::1:387f > "$TMP/many.out" 2>&1
read -r rss secs < "$TMP/many.time"
tap_diag "80000 sources: ${secs} s, peak RSS $((rss / 1024)) MB"
tap_like "$(cat "$TMP/many.out")" 'relay attempts from 2001:db8::1:387f' "the 80,000th source is reported"
tap_check "80,000 sources in under 60 s (${secs} s; quadratic grouping took ~90 s)" \
	awk -v s="$secs" 'BEGIN { exit !(s < 60) }'
tap_done
