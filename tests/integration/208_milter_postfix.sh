#!/bin/bash
# relayguard-milter in front of a real, misconfigured Postfix (profile "open":
# mynetworks = 0.0.0.0/0) with milter_default_action = tempfail:
#   - enforce: every probe of the auditor's battery from an untrusted client
#     (127.0.0.2) is refused, smtp-sink receives nothing, relayguard-audit
#     reports "closed"; local mail, a trusted client and (via miltertest,
#     204_milter_miltertest.sh) an authenticated session still pass;
#   - log-only (after a SIGUSR1 reload): mail flows, each attempt is logged;
#   - a broken config on SIGUSR1 is refused, the old one stays;
#   - milter killed: Postfix answers 4xx, nothing is lost or relayed.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
T0=$(rg_now_ms)

ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
tap_ok "relayguard-milter listens on unix:$ML_SOCK"

PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s" pf_start open || tap_bail "cannot start Postfix (open)"

audit() { "$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 15 "$@" 127.0.0.1; }

# --- enforce: the battery from an untrusted client ---------------------------
out=$(audit -f json); rc=$?
tap_is "$rc" 0 "open Postfix + milter: relayguard-audit exits 0"
tap_is "$(jq -r .verdict <<<"$out")" closed "open Postfix + milter: verdict closed"
nprobes=$(jq '[.tests[] | select(.control|not)] | length' <<<"$out")
tap_like "$nprobes" '^[1-9][0-9]+$' "the battery has relay probes ($nprobes)"
tap_is "$(jq -r '[.tests[] | select(.control|not) | select(.outcome != "rejected")] | length' <<<"$out")" 0 \
	"every relay probe rejected" || tap_diag "$(jq -c '.tests[] | select(.control|not) | select(.outcome != "rejected") | {id,rcpt,code,text}' <<<"$out")"
tap_is "$(jq -r '[.tests[] | select(.control|not) | select(.code != 554 or .enhanced != "5.7.1")] | length' <<<"$out")" 0 \
	"every relay probe answered 554 5.7.1" || tap_diag "$(jq -c '.tests[] | select(.control|not) | select(.code != 554 or .enhanced != "5.7.1") | {id,rcpt,code,enhanced,text}' <<<"$out")"
tap_like "$(jq -r '.tests[] | select(.id=="A1") | .text' <<<"$out")" 'Relay access denied' \
	"the reply uses Postfix's wording"
tap_is "$(jq -r '.tests[] | select(.id=="C1") | .outcome' <<<"$out")" accepted \
	"control: postmaster at the server is accepted"
pf_flush
pf_wait_queue_empty 10
tap_is "$(pf_sink_count)" 0 "smtp-sink received nothing"
tap_is "$(pf_queue_count)" 0 "nothing waits in the Postfix queue"
nref=$(ml_event_count relay_refused)
tap_like "$nref" '^[1-9][0-9]*$' "the event log holds $nref relay_refused events"
tap_check "every event line is JSON with an ISO 8601 time with UTC offset" \
	jq -e -s 'all(.[]; .time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2}$"))' "$ML_DIR/events.jsonl"
tap_like "$(grep -c 'event=relay_refused .*client_addr=127.0.0.2' "$ML_DIR/milter.log")" '^[1-9]' \
	"syslog-style key=value lines name the client"
tap_like "$(jq -r 'select(.event=="milter_start") | "\(.utc_offset) \(.clock) \(.maxerror_us)"' "$ML_DIR/events.jsonl")" \
	'^[+-][0-9]{2}:[0-9]{2} (synchronised|unsynchronised) [0-9]+$' \
	"the milter records its time zone and clock synchronisation at start"

# --- what must still pass -----------------------------------------------------
before=$(pf_mailbox_count root)
pf_swaks --local-interface 127.0.0.2 --from someone@other.example \
	--to postmaster@mail.site.example >"$ML_DIR/swaks-local.log" 2>&1
tap_is "$?" 0 "untrusted client: mail to a local domain is accepted" ||
	tap_diag "$(tail -5 "$ML_DIR/swaks-local.log")"
tap_check "it is delivered locally" pf_wait_mailbox_count root $((before + 1)) 10

pf_swaks --local-interface 127.0.0.1 --from user@site.example \
	--to friend@victim.example >"$ML_DIR/swaks-trusted.log" 2>&1
tap_is "$?" 0 "trusted client (127.0.0.1): relaying is accepted" ||
	tap_diag "$(tail -5 "$ML_DIR/swaks-trusted.log")"
tap_check "the relayed message reaches smtp-sink" pf_wait_sink_count 1 10

# RFC 5321 4.5.1: postmaster at the server's own address literal. The
# milter's LocalDomains do not list [127.0.0.1]; the {daemon_addr} Postfix
# passes at RCPT makes it local, and only that literal.
before=$(pf_mailbox_count root)
pf_swaks --local-interface 127.0.0.2 --from someone@other.example \
	--to 'postmaster@[127.0.0.1]' >"$ML_DIR/swaks-literal.log" 2>&1
tap_is "$?" 0 "untrusted client: postmaster@[127.0.0.1] (the server's own literal) is accepted" ||
	tap_diag "$(tail -5 "$ML_DIR/swaks-literal.log")"
tap_check "it is delivered locally" pf_wait_mailbox_count root $((before + 1)) 10
sink_before=$(pf_sink_count)
pf_swaks --local-interface 127.0.0.2 --from someone@other.example \
	--to 'postmaster@[127.0.0.9]' >"$ML_DIR/swaks-literal2.log" 2>&1
tap_like "$(grep -E '^<\*\* +5[0-9][0-9]' "$ML_DIR/swaks-literal2.log" | head -1)" '554 5\.7\.1 <postmaster@\[127\.0\.0\.9\]>' \
	"untrusted client: postmaster@[127.0.0.9] (another literal) is refused" ||
	tap_diag "$(tail -5 "$ML_DIR/swaks-literal2.log")"
tap_is "$(jq -r 'select(.event=="relay_refused") | .recipient' "$ML_DIR/events.jsonl" |
	grep -E '^<postmaster@\[127\.0\.0\.[19]\]>$')" '<postmaster@[127.0.0.9]>' \
	"the milter logged the other literal only"
pf_flush
pf_wait_queue_empty 10
tap_is "$(pf_sink_count)" "$sink_before" "nothing went to smtp-sink"

# --- reload: broken config refused, log-only accepted --------------------------
cp "$ML_DIR/relayguard.conf" "$ML_DIR/good.conf"
echo "Mode relay-everything" >>"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
tap_check "a broken config on SIGUSR1 is refused with file:line" \
	rg_retry 5 grep -q "reload refused.*relayguard.conf:[0-9]*: Mode" "$ML_DIR/milter.log"
pf_swaks --local-interface 127.0.0.2 --from a@other.example --to b@victim.example \
	>"$ML_DIR/swaks-still.log" 2>&1
tap_like "$(cat "$ML_DIR/swaks-still.log")" '554 5.7.1' "the old config (enforce) stays in force"

sed -e 's/^Mode enforce$/Mode log-only/' "$ML_DIR/good.conf" >"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
tap_check "SIGUSR1 reloads a good config" \
	rg_retry 5 grep -q "reloaded .*mode=log-only" "$ML_DIR/milter.log"
sink_before=$(pf_sink_count)
pf_swaks --local-interface 127.0.0.2 --from a@other.example --to b@victim.example \
	>"$ML_DIR/swaks-logonly.log" 2>&1
tap_is "$?" 0 "log-only: relayed mail from an untrusted client flows" ||
	tap_diag "$(tail -5 "$ML_DIR/swaks-logonly.log")"
tap_check "log-only: it reaches smtp-sink" pf_wait_sink_count $((sink_before + 1)) 10
tap_is "$(ml_event_count relay_would_refuse)" 1 "log-only: the attempt is logged as relay_would_refuse"
tap_is "$(jq -r 'select(.event=="relay_would_refuse") | "\(.client_addr) \(.recipient) \(.action)"' "$ML_DIR/events.jsonl")" \
	"127.0.0.2 <b@victim.example> log-only" "log-only event names client, recipient and action"

# --- milter killed mid-run: tempfail, nothing lost or relayed -----------------
sed -e 's/^Mode log-only$/Mode enforce/' "$ML_DIR/relayguard.conf" >"$ML_DIR/enforce.conf" &&
	cp "$ML_DIR/enforce.conf" "$ML_DIR/relayguard.conf"
kill -KILL "$ML_PID"
wait "$ML_PID" 2>/dev/null
rg_wait_pids_gone 5 "$ML_PID"
sink_before=$(pf_sink_count)
queue_before=$(pf_queue_count)
pf_swaks --local-interface 127.0.0.2 --from a@other.example --to b@victim.example \
	>"$ML_DIR/swaks-dead1.log" 2>&1
tap_like "$(grep -E '^<\*\* +4[0-9][0-9]' "$ML_DIR/swaks-dead1.log" | head -1)" '^<\*\* +4[0-9][0-9] ' \
	"milter down: untrusted relay attempt gets 4xx (tempfail)" || tap_diag "$(tail -6 "$ML_DIR/swaks-dead1.log")"
pf_swaks --local-interface 127.0.0.1 --from user@site.example --to friend@victim.example \
	>"$ML_DIR/swaks-dead2.log" 2>&1
tap_like "$(grep -E '^<\*\* +4[0-9][0-9]' "$ML_DIR/swaks-dead2.log" | head -1)" '^<\*\* +4[0-9][0-9] ' \
	"milter down: even a trusted client's mail is deferred with 4xx, not accepted" ||
	tap_diag "$(tail -6 "$ML_DIR/swaks-dead2.log")"
pf_flush
pf_wait_queue_empty 10
tap_is "$(pf_sink_count)" "$sink_before" "milter down: nothing was relayed"
tap_is "$(pf_queue_count)" "$queue_before" "milter down: nothing was queued (the client keeps the message)"
tap_like "$(pf_log_grep 'connect to Milter service .*(Connection refused|No such file)' | tail -1)" . \
	"Postfix logs the milter failure"

# Restart: mail flows again, the client's retry would succeed.
rm -f "$ML_SOCK"	# the killed milter's socket file; wait for the new one
rg_spawn "$ML_DIR/milter2.log" "$MILTER" -f -c "$ML_DIR/relayguard.conf"
ML_PID=$RG_SPAWN_PID
rg_retry 5 test -S "$ML_SOCK"
pf_swaks --local-interface 127.0.0.1 --from user@site.example --to friend@victim.example \
	>"$ML_DIR/swaks-retry.log" 2>&1
tap_is "$?" 0 "milter restarted: the deferred message goes through on retry"
tap_check "and reaches smtp-sink" pf_wait_sink_count $((sink_before + 1)) 10

ml_stop
tap_diag "208_milter_postfix took $(( ($(rg_now_ms) - T0) / 1000 )) s"
tap_done
