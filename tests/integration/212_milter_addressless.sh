#!/bin/bash
# relayguard-milter fails closed for clients without an IP address (issue 9,
# item 2): a milter CONNECT with family 'U' (unknown) or 'L' (unix), or no
# CONNECT at all, is an untrusted client unless TrustAddresslessClients yes.
#
# What the MTAs really send (Postfix 3.x source, sendmail 8 milter.c):
#   - Postfix non_smtpd_milters (sendmail(1) -> pickup -> cleanup, and
#     bounces with internal_mail_filter_classes): cleanup_milter_client_init()
#     pretends "localhost", 127.0.0.1 (::1 when inet_protocols lists IPv6
#     first), family '4' ('6'): an ordinary TrustedNetworks match;
#   - Postfix smtpd with a peer that is not an inet socket (a smtpd on a unix
#     socket in master.cf, a peer that went away, XCLIENT ADDR=[UNAVAILABLE]):
#     addr_family AF_UNSPEC -> family 'U'; "sendmail -bs" runs no
#     smtpd_milters at all (stand-alone smtpd), its mail goes through pickup;
#   - sendmail: milters run for SMTP sessions only; command-line mail goes
#     through the MSP (submit.cf) over SMTP to [127.0.0.1] -> family '4';
#     "sendmail -bs" on a non-socket stdin -> 'U'; a daemon on a unix socket
#     (Family=local) -> 'L'.
# Part 1 drives the milter with a raw milter client (tests/milter/rawmilter.py);
# part 2 runs the real Postfix paths: sendmail(1) through non_smtpd_milters,
# and swaks over a unix-socket smtpd (family 'U') with the default and the key.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
RAW="python3 tests/milter/rawmilter.py"
REFUSED='reply 554 5.7.1 <x@victim.example>: Relay access denied'

# raw FAMILY [ADDR] [--auth ID]: the milter's answer to a remote and a local rcpt
raw() {
	local fam=$1 addr=${2:-}
	shift 2 2>/dev/null || shift
	$RAW --socket "unix:$ML_SOCK" --family "$fam" --addr "$addr" "$@" \
		--rcpt '<x@victim.example>' --rcpt '<u@site.example>' 2>&1 | tr '\n' '|'
}

# --- 1. the raw milter protocol --------------------------------------------
ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
for fam in U L none; do
	addr=
	[ "$fam" = L ] && addr=/run/sendmail/smtp.sock
	tap_is "$(raw "$fam" "$addr")" "RCPT <x@victim.example> $REFUSED|RCPT <u@site.example> continue|" \
		"default: family $fam may not relay, its local mail passes"
done
tap_is "$(raw 4 127.0.0.1)" "RCPT <x@victim.example> continue|RCPT <u@site.example> continue|" \
	"family 4 from 127.0.0.1 (TrustedNetworks) still relays"
tap_is "$(raw 4 192.0.2.9)" "RCPT <x@victim.example> $REFUSED|RCPT <u@site.example> continue|" \
	"family 4 from an untrusted address is refused"
tap_is "$(raw U '' --auth alice)" "RCPT <x@victim.example> continue|RCPT <u@site.example> continue|" \
	"an authenticated address-less client may relay (AllowAuthenticated)"
tap_is "$(jq -r 'select(.event=="relay_refused") | .client_addr' "$ML_DIR/events.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	"192.0.2.9=1 unix=1 unknown=2 " "events name the address-less clients unknown (U, none) and unix (L)"
tap_like "$(jq -r 'select(.event=="relay_refused" and .client_addr=="unknown") | .reason' "$ML_DIR/events.jsonl" | sort -u)" \
	'^client without an IP address, recipient domain victim.example not local$' "with the reason"

echo "TrustAddresslessClients yes" >>"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 10 grep -q "reloaded" "$ML_DIR/milter.log" || tap_diag "no reload line: $(tail -3 "$ML_DIR/milter.log")"
for fam in U L none; do
	addr=
	[ "$fam" = L ] && addr=/run/sendmail/smtp.sock
	tap_is "$(raw "$fam" "$addr")" "RCPT <x@victim.example> continue|RCPT <u@site.example> continue|" \
		"TrustAddresslessClients yes: family $fam may relay"
done
tap_is "$(raw 4 192.0.2.9)" "RCPT <x@victim.example> $REFUSED|RCPT <u@site.example> continue|" \
	"TrustAddresslessClients yes trusts no address-bearing client"
ml_stop

# --- 2. real Postfix ------------------------------------------------------------
ml_start "Mode enforce
LogVerbose yes" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
non_smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail" pf_start closed || tap_bail "cannot start Postfix"
# An smtpd on a unix socket ($queue_directory/public/smtpu): its peer is no inet socket.
postconf -c "$PF_CONF" -M 'smtpu/unix=smtpu unix n - n - - smtpd' || tap_bail "postconf -M"
pf_reload
rg_retry 10 test -S "$PF_QUEUE_DIR/public/smtpu" || tap_bail "no smtpd on $PF_QUEUE_DIR/public/smtpu"

# sendmail(1): pickup -> cleanup -> non_smtpd_milters as localhost/127.0.0.1.
printf 'Subject: local submission\n\nhello\n' | pf_sendmail -f root@mail.site.example remote@victim.example
tap_check "sendmail(1) to a remote recipient is relayed (TrustedNetworks 127.0.0.1/32)" pf_wait_sink_count 1 20
tap_is "$(jq -r 'select(.event=="rcpt_permitted" and .recipient=="remote@victim.example") | "\(.client_addr) \(.client_name)"' "$ML_DIR/events.jsonl" | head -1)" \
	"127.0.0.1 localhost" "Postfix's pickup reaches the milter as localhost, 127.0.0.1 (family 4), not address-less"

# smtpd on a unix socket -> milter family 'U'.
out=$(swaks --socket "$PF_QUEUE_DIR/public/smtpu" --timeout 10 --helo client.example \
	--from sender@other.example --to x@victim.example --quit-after RCPT 2>&1)
tap_like "$out" '<\*\* +554 5\.7\.1 <x@victim\.example>: Relay access denied' \
	"a unix-socket smtpd client (family U) may not relay by default: the milter's 554"
tap_is "$(jq -r 'select(.event=="relay_refused") | "\(.client_addr) \(.client_name)"' "$ML_DIR/events.jsonl" | head -1)" \
	"unknown localhost" "Postfix sent it as localhost without an address"
out=$(swaks --socket "$PF_QUEUE_DIR/public/smtpu" --timeout 10 --helo client.example \
	--from sender@other.example --to postmaster@site.example 2>&1)
tap_like "$out" '<-  250 2\.0\.0 Ok: queued' "its mail to a local domain is accepted"

echo "TrustAddresslessClients yes" >>"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 10 grep -q "reloaded" "$ML_DIR/milter.log" || tap_diag "no reload line"
before=$(pf_sink_count)
out=$(swaks --socket "$PF_QUEUE_DIR/public/smtpu" --timeout 10 --helo client.example \
	--from sender@other.example --to x@victim.example 2>&1)
tap_like "$out" '<-  250 2\.0\.0 Ok: queued' "with TrustAddresslessClients yes the unix-socket client may relay"
tap_check "and the relayed message reaches the remote side" pf_wait_sink_count $((before + 1)) 20

ml_stop
tap_done
