#!/bin/bash
# relayguard-milter's logs cannot be forged from the network (issue 9, items
# 3 and 6). NSD on loopback serves hostile SPF TXT records (tests/dns/
# mf.test.zone: inject-crlf with CR LF + a forged
# "relayguard-milter: event=relay_refused client_addr=6.6.6.6 ..." line,
# inject-vt with VT BS, inject-c1 with raw and encoded C1 CSI, U+202E and a
# 0xff byte); a raw milter client (tests/milter/rawmilter.py) sends a HELO
# with CR LF and the same forged line under LogVerbose yes, and a recipient
# with raw 8-bit and C1 bytes. Then the milter's stderr log is checked line
# by line (every line one of its own, no control or 8-bit byte, no event
# line for 6.6.6.6, as many relay_refused lines as real refusals), and so is
# the JSON event log; the reject reply is printable ASCII (the SMTP rule of
# lib/base/textclean.c), also as a real Postfix passes it to an SMTPUTF8 client.
# Nothing here queries a nameserver outside 127.0.0.1.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/dns.sh
source tests/milter/lib.sh

rg_built "$MILTER"
dns_start tests/dns/*.zone || tap_bail "cannot start NSD on loopback"
ml_start "Nameservers $DNS_NS
DNSTimeout 1
DNSRetries 0
SPF yes
LogVerbose yes
Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"

FORGED='relayguard-milter: event=relay_refused client_addr=6.6.6.6 action=reject'
LOG=$ML_DIR/milter.log
EV=$ML_DIR/events.jsonl

raw() {	# rawmilter.py from the untrusted client 127.0.0.2, one line per reply
	python3 tests/milter/rawmilter.py --socket "unix:$ML_SOCK" --family 4 \
		--addr 127.0.0.2 --host client.mf.test "$@" 2>&1
}

# 1. HELO with CR LF and a forged event line; SPF of inject-crlf.mf.test
out=$(raw --helo $'client.example\r\n'"$FORGED" --sender '<x@inject-crlf.mf.test>' \
	--rcpt '<x@victim.example>' --rcpt '<u@site.example>')
tap_like "$out" 'RCPT <x@victim\.example> reply 554 5\.7\.1 <x@victim\.example>: Relay access denied' \
	"the relay attempt with the hostile HELO is refused" || tap_diag "$out"
# 2. SPF records with VT BS, and with C1 / bidi / invalid UTF-8
out=$(raw --sender '<x@inject-vt.mf.test>' --rcpt '<u@site.example>')
tap_like "$out" 'RCPT <u@site\.example> continue' "local mail with a hostile SPF record passes"
out=$(raw --sender '<x@inject-c1.mf.test>' --rcpt '<u@site.example>')
# 3. a recipient with raw 8-bit and C1 bytes, a bidi override and a '%'
# (a raw milter client: Postfix itself refuses invalid UTF-8, see 4.)
out=$(raw --sender '<x@pass.mf.test>' --rcpt $'<victim\x9b\xc2\x9b\xe2\x80\xae\xff%x@victim.example>')
reply=${out#* reply }
tap_is "$reply" '554 5.7.1 <victim\x9b\u009b\u202e\xff%%x@victim.example>: Relay access denied' \
	"the reject reply shows the recipient's bytes as escapes, '%' doubled for smfi_setreply"
tap_is "$(printf '%s' "$reply" | LC_ALL=C tr -d '\040-\176' | wc -c)" 0 \
	"the reject reply is printable ASCII only"
# 4. the same through a real Postfix (profile open: the milter refuses):
# invalid UTF-8 never passes Postfix itself (500 5.5.2 bad UTF-8 syntax), but
# with SMTPUTF8 a recipient with U+009B and U+202E does, and the client gets
# printable ASCII back (Postfix turns the milter's %% back into %).
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail" pf_start open || tap_bail "cannot start Postfix (open)"
out=$(python3 - "$PF_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20,
                             source_address=("127.0.0.2", 0))
f = s.makefile("rb")
def cmd(c):
    if c:
        s.sendall(c + b"\r\n")
    while True:
        line = f.readline()
        if line[3:4] != b"-":
            return line.rstrip(b"\r\n")
cmd(None)
cmd(b"EHLO client.example")
cmd(b"MAIL FROM:<x@pass.mf.test> SMTPUTF8")
sys.stdout.buffer.write(cmd(b"RCPT TO:<victim\xc2\x9b\xe2\x80\xae%x@victim.example>") + b"\n")
cmd(b"QUIT")
PY
)
tap_is "$out" '554 5.7.1 <victim\u009b\u202e%x@victim.example>: Relay access denied' \
	"through Postfix: the SMTP client gets the C1 and bidi characters as escapes"
tap_is "$(printf '%s' "$out" | LC_ALL=C tr -d '\040-\176' | wc -c)" 0 \
	"through Postfix: the reject reply is printable ASCII only"
tap_is "$(pf_sink_count)" 0 "nothing was relayed"
rg_retry 5 test "$(ml_event_count relay_refused)" -ge 3

# --- the stderr log, line by line ---------------------------------------------
tap_is "$(LC_ALL=C tr -d -c '\000-\011\013-\037\177-\377' <"$LOG" | wc -c)" 0 \
	"no control byte (CR, VT, BS, ESC) and no 8-bit byte (C1, bidi, broken UTF-8) in the log"
tap_is "$(grep -c -v '^relayguard-milter: ' "$LOG")" 0 \
	"every log line starts as the milter's own lines do" || tap_diag "$(grep -v '^relayguard-milter: ' "$LOG")"
# An event line's own client_addr (outside its quoted values) is never 6.6.6.6.
addrs=$(grep '^relayguard-milter: event=' "$LOG" | sed -E 's/"([^"\\]|\\.)*"//g' |
	grep -o ' client_addr=[^ ]*' | sort -u | tr '\n' ' ')
tap_is "$addrs" " client_addr=127.0.0.2 " "no forged event line: every event line is about the real client 127.0.0.2"
tap_is "$(grep -c '^relayguard-milter: event=relay_refused ' "$LOG")" "$(ml_event_count relay_refused)" \
	"as many relay_refused log lines as refusals in the event log"
tap_is "$(grep -c "spf: TXT record of inject-crlf.mf.test refused as unsafe .*: v=spf1 \\\\x0d\\\\x0arelayguard-milter: event=relay_refused" "$LOG")" 1 \
	"the CR LF record is logged on one line, CR LF shown as \\x0d\\x0a"
tap_is "$(grep -c 'spf: TXT record of inject-vt.mf.test refused as unsafe .*: v=spf1 \\x0b\\x08relayguard-milter' "$LOG")" 1 \
	"the VT BS record is logged on one line as \\x0b\\x08"
tap_is "$(grep -c 'spf: TXT record of inject-c1.mf.test refused as unsafe .*: v=spf1 \\x9b\\u009b\\u202e \\xff -all' "$LOG")" 1 \
	"the C1 / bidi / 0xff record is logged with escapes"
tap_is "$(grep -c "^relayguard-milter: debug: spf: ip=127.0.0.2 from=\"x@inject-crlf.mf.test\" helo=\"client.example\\\\x0d\\\\x0arelayguard-milter: event=relay_refused client_addr=6.6.6.6" "$LOG")" 1 \
	"LogVerbose: the SPF debug line shows the HELO's CR LF as \\x0d\\x0a, on one line, quoted"
# ... and its blanks cannot add fields (review 1, item 13: the KV rule, quoted)
tap_is "$(grep '^relayguard-milter: debug: spf: ip=' "$LOG" | sed -E 's/"([^"\\]|\\.)*"//g' | grep -c 'client_addr=')" 0 \
	"no SPF debug line has a client_addr field outside its quoted values"
tap_like "$(grep '^relayguard-milter: event=relay_refused ' "$LOG" | head -n 1)" \
	'helo="client\.example\\x0d\\x0arelayguard-milter: event=relay_refused client_addr=6\.6\.6\.6 action=reject"' \
	"the event line quotes the hostile HELO as one escaped value"

# --- the JSON event log -------------------------------------------------------
tap_is "$(jq -c . "$EV" 2>/dev/null | wc -l)" "$(wc -l <"$EV")" "every event log line is one JSON object"
tap_is "$(jq -r 'select(.client_addr) | .client_addr' "$EV" | sort -u)" 127.0.0.2 "no event for the forged client 6.6.6.6"
tap_is "$(jq -r 'select(.event=="relay_refused") | .helo' "$EV" | head -n 1)" \
	'client.example\x0d\x0arelayguard-milter: event=relay_refused client_addr=6.6.6.6 action=reject' \
	"the JSON helo carries the CR LF as the \\x0d\\x0a escape"
tap_is "$(jq -r 'select(.event=="relay_refused" and (.recipient|startswith("<victim\\x9b"))) | .recipient' "$EV")" \
	'<victim\x9b\u009b\u202e\xff%x@victim.example>' "the JSON recipient escapes C1, bidi and the broken byte"
tap_is "$(LC_ALL=C tr -d -c '\000-\011\013-\037\177-\377' <"$EV" | wc -c)" 0 \
	"no raw control or 8-bit byte in the event log"
ml_stop
tap_done
