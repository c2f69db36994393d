#!/bin/bash
# rg-timeout: 1200
# relayguard-audit against a real private Courier-MTA (tests/lib/courier.sh),
# every profile (issue 17): a real message from an outside address
# establishes the truth, local mail is delivered, the audit names Courier,
# completes nothing and its verdict agrees with the truth
# (tests/lib/mta_truth.sh). Checks that today's audit fails are TAP TODO
# with the issue-17 item that fixes them. Where the audit finds the hole,
# its JSON remedy is applied literally and must close it (courier_fix).
#
# Debian's esmtpd tarpits (TARPIT=1: courieresmtpd.C tarpit() sleeps 8 s
# before a session's first 5xx and twice as long before each further one, up
# to 128 s; a new session starts at 8 s again; its "554 Syntax error" to a
# bare path comes at once, and the sleep before the session's next reply)
# and couriertcpd closes a sixth connection from one address at the
# greeting, without a 421 (-maxperip=5).
# The audit measures the tarpit, gives each tarpitted session no further
# probe, runs each probe in lock-step (no RCPT after a refused MAIL: a
# second error would cost 16 s), sends a sender Courier refused at MAIL no
# second time, counts a close at the greeting as "too many connections" and
# gives the verdict within the default --budget (300 s), saying "tarpitting:
# N s per error" (item 4), with no reply awaited in vain (no_reply_in_vain);
# the closed and network profiles are also run with the tarpit off
# (TARPIT=0).
# Then item 3 on hostile_smtpd any-local-part (Courier and Haraka take any
# local part of the names they receive for).
# An MTA that cannot be started is a failure with its reason, never a skip.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/courier.sh
source tests/lib/mta_truth.sh
source tests/lib/hostile.sh

# courier_fix TAG: the JSON remedy of the audit just run (MTA_TRUTH_JSON),
# applied literally (tests/lib/mta_fix.py --json --strict, the files under the
# instance's root), its check command run as written inside the instance,
# Courier restarted on what that command compiled (no rebuild of ours): the
# hole closes and local mail is still delivered (issue 17 item 6).
courier_fix() {
	local tag=$1 out check rc
	tap_is "$(jq -r .remedy.verified <<<"$MTA_TRUTH_JSON")" true "$tag: the Courier remedy is marked verified"
	out=$(python3 tests/lib/mta_fix.py --json --strict --root "$MTA_DIR" courier "$MTA_CONF" \
		<<<"$MTA_TRUTH_JSON" 2>&1) && rc=0 || rc=$?
	tap_diag "$tag: the remedy applied:" "$out"
	tap_is "$rc" 0 "$tag: the JSON remedy applies literally (every delete pattern matched)"
	check=$(jq -r '.remedy.steps[0].check' <<<"$MTA_TRUTH_JSON")
	out=$(courier__ns sh -c "$check" 2>&1) && rc=0 || rc=$?
	tap_is "$rc" 0 "$tag: the remedy's check command runs and exits 0 ($check)${out:+: $out}"
	mta__stop_daemon "$MTA_DIR"
	mta__launch || tap_fail "$tag: Courier restarts on the fixed configuration"
	tap_is "$(mta_relays_real 127.0.0.2)" refused "$tag: after the fix a real message from outside is refused"
	tap_check "$tag: after the fix local mail is still delivered" mta_local_ok 127.0.0.2
	tap_is "$(mta_relays_real 127.0.0.1)" relayed "$tag: after the fix the trusted host still relays"
}

tarpit_named() {	# TAG: the report names the tarpit (item 4)
	tap_like "$(jq -r .verdict_reason <<<"$MTA_TRUTH_JSON" 2>/dev/null)" \
		"tarpitting: [0-9]+ s per error" "$1: the report says the server tarpits"
}

# Each refusal costs the tarpit once (item 4; the JSON has the transcript:
# MTA_TRUTH_ARGS --transcript). TX: the commands and replies.
TX='[.transcript[] | select(.dir == "<" or .dir == ">") | .line]'
# no_rcpt_after_refused_mail TAG: once the tarpit is known (the closed
# profile refuses C2, the second probe, before any other lane starts), no
# RCPT goes after a refused MAIL: Courier answers it "502 ESMTP command
# error", a second error, 16 s more. (On an open relay the probes before the
# first error go in pipelined groups on every lane: one such 502 is the
# price of not knowing yet.)
no_rcpt_after_refused_mail() {
	tap_is "$(jq -r "$TX | map(select(startswith(\"502 \"))) | length" <<<"$MTA_TRUTH_JSON")" 0 \
		"$1: no RCPT after a refused MAIL (no 502 ESMTP command error)"
}
# refused_sender_once TAG: the sender relaytest@[127.0.0.1], which Courier
# refuses at MAIL, went only to the sessions already under way when its
# first refusal came (at most --per-host 4), not once per routing trick
# (some 30): the tricks went straight to the retry with the accepted sender.
refused_sender_once() {
	tap_check "$1: the refused sender <relaytest@[127.0.0.1]> was sent at most 4 times" \
		test "$(jq -r "$TX | map(select(. == \"MAIL FROM:<relaytest@[127.0.0.1]>\")) | length" \
			<<<"$MTA_TRUTH_JSON")" -le 4
}

# no_reply_in_vain TAG: no reply timed out and no group was dropped. Each
# of Courier's tarpit sleeps is at most twice the last, and a reply is
# awaited twice the slowest: a reply awaited in vain is a group that went
# out with errors the tarpit chains (8, 16, 32 s ...), and the session the
# audit dropped keeps one of Courier's five places asleep.
no_reply_in_vain() {
	tap_is "$(jq -r '[.transcript[] | select(.line | test("no complete reply|dropped on a pipelined"))] | length' \
		<<<"$MTA_TRUTH_JSON")" 0 "$1: no reply awaited in vain, no group dropped"
}

# --- closed: Debian's smtpaccess/default, RELAYCLIENT for 127.0.0.1 ---------
MTA_TRUTH_ARGS=--transcript mta_truth courier closed refused
tarpit_named "courier closed"
no_rcpt_after_refused_mail "courier closed"
refused_sender_once "courier closed"
no_reply_in_vain "courier closed"
tap_is "$(mta_relays_real 127.0.0.1)" relayed "courier closed: the trusted host relays"
mta_stop

# --- open: "*	allow,RELAYCLIENT" ---------------------------------------------
MTA_TRUTH_ARGS=--transcript mta_truth courier open relayed
tarpit_named "courier open"
refused_sender_once "courier open"
no_reply_in_vain "courier open"
mta_stop

# --- network: "127	allow,RELAYCLIENT", a network too wide ----------------------
MTA_TRUTH_ARGS=--transcript mta_truth courier network relayed
tarpit_named "courier network"
no_reply_in_vain "courier network"
mta_stop

# --- the tarpit off: the audit is right on Courier's answers alone -----------
MTA_EXTRA="TARPIT=0" MTA_TRUTH_TAG="courier closed TARPIT=0" mta_truth courier closed refused
mta_stop
MTA_EXTRA="TARPIT=0" MTA_TRUTH_TAG="courier network TARPIT=0" mta_truth courier network relayed
courier_fix "courier network TARPIT=0"
mta_stop

# --- item 3: a server that takes any local part of its own names -------------
# hostile_smtpd any-local-part accepts every recipient under its host name,
# localhost and [127.0.0.1] ("x%victim@NAME", "x@victim@NAME" too, with DATA
# 354: it would deliver them locally) and refuses every other one. The
# control per local name (C3, a random local part) is accepted there, so the
# routing tricks under those names prove nothing: the verdict is closed.
start_hostile any-local-part
out=$(timeout 60 "$AUDIT" -p "$HPORT" -t 5 --connect-timeout 2 --budget 40 \
	-d victim.example -f json 127.0.0.1 2>/dev/null) && rc=0 || rc=$?
tap_is "$(jq -r .verdict <<<"$out")" closed "any-local-part: the verdict is closed"
tap_is "$rc" 0 "any-local-part: exit 0"
tap_is "$(jq -r '[.tests[] | select(.id | startswith("C3")) | .outcome] | unique | join(" ")' <<<"$out")" \
	accepted "any-local-part: the control per local name (C3) is accepted at every name"
tap_like "$(jq -r .verdict_reason <<<"$out")" \
	"routing tricks were accepted .*this name accepts any local part; the trick cannot be told from local delivery" \
	"any-local-part: the report says why the accepted routing tricks prove nothing"
stop_hostile
tap_done
