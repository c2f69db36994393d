#!/bin/bash
# 000_harness.sh - the test harness itself: a private real Postfix relays, refuses,
# delivers locally and bounces as the profiles promise, and leaves nothing behind.
# Not under set -e: a failed check is reported and the script goes on.

source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

pids=()

# relay FROM_ADDR RCPT: one full message from a client bound to FROM_ADDR.
send() {
	pf_swaks --local-interface "$1" --from x@outside.example --to "$2" \
		--header "Subject: harness test" --body "relayguard harness" 2>&1
}

# --- open profile: an outsider relays ---------------------------------------
t0=$(rg_now_ms)
if ! pf_start open; then
	tap_bail "pf_start open failed"
fi
tap_diag "open: started in $(($(rg_now_ms) - t0)) ms (dir $PF_DIR, smtpd $PF_PORT, sink $PF_SINK_PORT)"
pids+=("$PF_MASTER_PID" "$PF_SINK_PID")
open_dir=$PF_DIR
open_kids=$(ps -o pid= --ppid "$PF_MASTER_PID" | tr -d ' ' | tr '\n' ' ')
tap_like "$(rg_smtp_banner 127.0.0.1 "$PF_PORT")" '^220 mail\.site\.example ESMTP' \
	"open: smtpd greets 220 with myhostname"
tap_is "$(postconf -c "$PF_CONF" -h mynetworks)" "0.0.0.0/0" "open: mynetworks is 0.0.0.0/0"

out=$(send 127.0.0.2 victim@faraway.example)
tap_like "$out" '<- +250 [^
]*queued as' "open: message from 127.0.0.2 to victim@faraway.example accepted"
pf_wait_sink_count 1 10
tap_is "$(pf_sink_count)" 1 "open: the message reached the next hop (smtp-sink)"
sinkfile=$(find "$PF_SINK_DIR" -type f | head -n 1)
tap_like "$(cat "$sinkfile" 2>/dev/null)" 'X-Rcpt-Args: <victim@faraway\.example>' \
	"open: sink dump names the relayed recipient"
tap_check "open: maillog shows status=sent via the relayhost" \
	pf_wait_log "to=<victim@faraway\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$PF_SINK_PORT.*status=sent" 5
tap_check "open: queue empties" pf_wait_queue_empty 5
for p in $open_kids; do pids+=("$p"); done

# --- closed profile (runs beside the open one) --------------------------------
t0=$(rg_now_ms)
if ! pf_start closed; then
	tap_bail "pf_start closed failed"
fi
tap_diag "closed: started in $(($(rg_now_ms) - t0)) ms (dir $PF_DIR, smtpd $PF_PORT)"
pids+=("$PF_MASTER_PID" "$PF_SINK_PID")
closed_dir=$PF_DIR
tap_isnt "$PF_PORT" "$(. "$open_dir/pf.env"; echo "$PF_PORT")" "two instances get different ports"

out=$(send 127.0.0.2 victim@faraway.example)
tap_like "$out" '<\*\* +554 5\.7\.1 <victim@faraway\.example>: Relay access denied' \
	"closed: 127.0.0.2 gets 554 5.7.1 Relay access denied"
out=$(send 127.0.0.1 friend@faraway.example)
tap_like "$out" '<- +250 [^
]*queued as' "closed: 127.0.0.1 (mynetworks) may relay"
pf_wait_sink_count 1 10
tap_is "$(pf_sink_count)" 1 "closed: only the trusted client's message reached the sink"
tap_like "$(grep -h '^X-Rcpt-Args' "$PF_SINK_DIR"/*/* 2>/dev/null)" \
	'^X-Rcpt-Args: <friend@faraway\.example>( |$)' "closed: and it is the one to friend@"

out=$(send 127.0.0.2 "postmaster@$PF_MYHOSTNAME")
tap_like "$out" '<- +250 [^
]*queued as' "closed: outsider may mail postmaster@$PF_MYHOSTNAME"
tap_check "closed: postmaster's message is delivered to root's mailbox" \
	pf_wait_mailbox_count root 1 10
tap_like "$(cat "$PF_MAIL_DIR"/root/new/* 2>/dev/null)" 'Subject: harness test' \
	"closed: the mailbox holds the message"
tap_is "$(pf_sink_count)" 1 "closed: local mail did not go to the sink"

# pf_postconf changes take effect for the very next session.
pf_postconf "mynetworks = 127.0.0.0/8"
out=$(send 127.0.0.2 after-reload@faraway.example)
tap_like "$out" '<- +250 [^
]*queued as' "pf_postconf: widened mynetworks applies at once"
tap_check "pf_postconf: and the message is relayed" pf_wait_sink_count 2 10

# --- stopping -------------------------------------------------------------------
closed_kids=$(ps -o pid= --ppid "$PF_MASTER_PID" | tr -d ' ' | tr '\n' ' ')
for p in $closed_kids; do pids+=("$p"); done
t0=$(rg_now_ms)
pf_stop "$open_dir"
pf_stop "$closed_dir"
tap_diag "stopped both in $(($(rg_now_ms) - t0)) ms"
alive=
for p in "${pids[@]}"; do
	rg_pid_alive "$p" && alive="$alive $p($(tr '\0' ' ' <"/proc/$p/cmdline"))"
done
tap_is "$alive" "" "pf_stop: master, its daemons and smtp-sink are gone (${#pids[@]} PIDs)"
if [ -e "$open_dir" ] || [ -e "$closed_dir" ]; then
	tap_fail "pf_stop: temp dirs removed" "still there: $open_dir $closed_dir"
else
	tap_ok "pf_stop: temp dirs removed"
fi

# --- a next hop that refuses everything: relayed mail bounces ----------------------
t0=$(rg_now_ms)
PF_SINK_MODE=reject PF_MAIN_EXTRA="notify_classes = resource, software, 2bounce" \
	pf_start open || tap_bail "pf_start open (PF_SINK_MODE=reject) failed"
tap_diag "reject: started in $(($(rg_now_ms) - t0)) ms"
reject_master=$PF_MASTER_PID
reject_sink=$PF_SINK_PID
out=$(send 127.0.0.2 victim@faraway.example)
tap_like "$out" '<- +250 [^
]*queued as' "reject: open relay accepts the message"
tap_check "reject: the next hop's 550 bounces it" \
	pf_wait_log "to=<victim@faraway\.example>.*dsn=5\.4\.4, status=bounced" 10
tap_check "reject: the bounce to the forged sender bounces too" \
	pf_wait_log "to=<x@outside\.example>.*status=bounced" 10
tap_check "reject: the double bounce lands in postmaster's (root's) mailbox" \
	pf_wait_mailbox_count root 1 10
tap_like "$(cat "$PF_MAIL_DIR"/root/new/* 2>/dev/null)" 'From: (MAILER-DAEMON|Mail Delivery System)' \
	"reject: it is a delivery status notification"
tap_is "$(pf_sink_count)" 0 "reject: nothing was accepted by the next hop"
tap_check "reject: queue empties" pf_wait_queue_empty 5
pf_stop
tap_is "$( (rg_pid_alive "$reject_master" || rg_pid_alive "$reject_sink") && echo alive)" "" \
	"reject: all gone after pf_stop"

tap_done
