#!/bin/bash
# rg-timeout: 600
# relayguard-audit against a real private Haraka (tests/lib/haraka.sh), every
# profile (issue 17): a real message from an outside address establishes the
# truth, local mail is delivered, the audit names Haraka, completes nothing
# and its verdict agrees with the truth (tests/lib/mta_truth.sh).
# Then the part already fixed (item 1): stock Haraka answers the
# address-literal sender <relaytest@[127.0.0.1]> with "450 Temp. resolver
# error"; those probes are untested and retried with the baseline sender, and
# the report says this is not greylisting - on real Haraka and on the
# hostile_smtpd imitation (resolver-literal), whose verdict must be closed.
# An MTA that cannot be started is a failure with its reason, never a skip.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/haraka.sh
source tests/lib/mta_truth.sh
source tests/lib/hostile.sh

# Relay probes left untested or tempfailed at MAIL whose sender is not the
# trick itself: the probes item 1 is about.
untested_at_mail() {
	jq -r '[.tests[] | select((.control|not) and .class != "sender" and .stage == "mail"
		and (.outcome == "untested" or .outcome == "tempfail"))] | length' <<<"$1"
}
# Accepted relay probes whose recipient is outside the server's names.
accepted_outside() {
	jq -r '[.tests[] | select(.outcome == "accepted" and (.control|not))
		| .rcpt_to | select(test("@victim\\.example>$"))] | length' <<<"$1"
}

# haraka_fix TAG: the JSON remedy of the audit just run (MTA_TRUTH_JSON),
# applied literally (tests/lib/mta_fix.py --json; /etc/haraka is the
# instance's Haraka directory), its check command run as written (haraka is
# the npm package's bin/haraka, /etc/haraka that directory; it must exit 0),
# Haraka restarted: the hole closes and local mail is still delivered
# (issue 17 item 6).
haraka_fix() {
	local tag=$1 out check rc root=$MTA_DIR/root
	mkdir -p "$root/etc" && ln -sfn "$MTA_DIR/haraka" "$root/etc/haraka"
	tap_is "$(jq -r .remedy.verified <<<"$MTA_TRUTH_JSON")" true "$tag: the Haraka remedy is marked verified"
	tap_unlike "$(jq -r .recommended_fix <<<"$MTA_TRUTH_JSON")" "force_routing" \
		"$tag: the advice does not name force_routing (it grants no relaying)"
	out=$(python3 tests/lib/mta_fix.py --json --root "$root" haraka "$MTA_CONF" \
		<<<"$MTA_TRUTH_JSON" 2>&1) && rc=0 || rc=$?
	tap_diag "$tag: the remedy applied:" "$out"
	tap_is "$rc" 0 "$tag: the JSON remedy applies literally"
	check=$(jq -r '.remedy.steps[0].check' <<<"$MTA_TRUTH_JSON")
	read -r -a cmd <<<"${check//\/etc\/haraka/$MTA_DIR/haraka}"
	[ "${cmd[0]}" = haraka ] && cmd=(node "$HK_BIN" "${cmd[@]:1}")
	out=$(mta__ns "${cmd[@]}" 2>&1) && rc=0 || rc=$?
	tap_is "$rc" 0 "$tag: the remedy's check command ($check) runs and exits 0"
	mta_restart || tap_fail "$tag: Haraka restarts on the fixed configuration"
	tap_is "$(mta_relays_real 127.0.0.2)" refused "$tag: after the fix a real message from outside is refused"
	tap_check "$tag: after the fix local mail is still delivered" mta_local_ok 127.0.0.2
	tap_is "$(mta_relays_real 127.0.0.1)" relayed "$tag: after the fix the trusted host still relays"
}

# --- closed: relay plugin, relay_acl_allow 127.0.0.1/32 ----------------------
# Haraka accepts any local part at its host_list names: the routing tricks
# under them are accepted too, and the control per local name (C3) keeps
# the verdict off them (item 3).
mta_truth haraka closed refused
json=$MTA_TRUTH_JSON
tap_is "$(untested_at_mail "$json")" 0 \
	"haraka closed: no relay probe is left untested by the 450 to the address-literal sender"
tap_like "$(jq -r .verdict_reason <<<"$json")" "deferred at MAIL.*Temp\. resolver error.*not greylisting" \
	"haraka closed: the report says the sender form was deferred, not greylisting"
tap_unlike "$(jq -r .verdict_reason <<<"$json")" "greylisting delay" \
	"haraka closed: no advice to wait out greylisting"
tap_like "$(jq -r .verdict_reason <<<"$json")" "accepts any local part; the trick cannot be told from local delivery" \
	"haraka closed: the report says why the accepted routing tricks prove nothing"
tap_is "$(mta_relays_real 127.0.0.1)" relayed "haraka closed: the trusted host relays"
mta_stop

# --- open: [relay] all=true --------------------------------------------------
mta_truth haraka open relayed
tap_is "$(untested_at_mail "$MTA_TRUTH_JSON")" 0 \
	"haraka open: no relay probe is left untested by the 450 to the address-literal sender"
[ "$(jq -r .verdict <<<"$MTA_TRUTH_JSON" 2>/dev/null)" = open_relay ] && haraka_fix "haraka open"
mta_stop

# --- dest_domains: a local recipient makes the transaction relay -------------
# Its routing tricks under site.example prove nothing (a name that takes any
# local part, item 3); the hole is found by the after-local family (item 2):
# RCPT postmaster@site.example, then the relay RCPT, in one transaction.
mta_truth haraka dest_domains relayed "--to postmaster@site.example,victim@victim.example"
tap_isnt "$(accepted_outside "$MTA_TRUTH_JSON")" 0 \
	"haraka dest_domains: the verdict rests on a recipient outside the server's names"
tap_is "$(jq -r '[.tests[] | select(.outcome == "accepted" and (.control|not)
		and .class != "routing") | .class] | unique | join(",")' <<<"$MTA_TRUTH_JSON")" after_local \
	"haraka dest_domains: the accepted evidence is the after-local family, class after_local"
tap_is "$(jq -r '.tests[] | select(.id == "L1@site.example")
		| "\(.first_rcpt_to) \(.first_rcpt_code) \(.rcpt_to) \(.outcome)"' <<<"$MTA_TRUTH_JSON")" \
	"<postmaster@site.example> 250 <relaytest@victim.example> accepted" \
	"haraka dest_domains: L1@site.example - postmaster first (250), the relay RCPT accepted"
tap_is "$(jq -r '.remedy.holes | join(",")' <<<"$MTA_TRUTH_JSON")" after_local \
	"haraka dest_domains: the remedy names the after-local hole only"
tap_like "$(jq -r '.remedy.steps[0].note' <<<"$MTA_TRUTH_JSON")" "dest_domains" \
	"haraka dest_domains: its advice is about the relay plugin's dest_domains"
mta_stop

# --- acl: relay_acl_allow 127.0.0.0/8, a network too wide --------------------
mta_truth haraka acl relayed
[ "$(jq -r .verdict <<<"$MTA_TRUTH_JSON" 2>/dev/null)" = open_relay ] && haraka_fix "haraka acl"
mta_stop

# --- the same 450 from hostile_smtpd resolver-literal, a closed server -------
start_hostile resolver-literal
out=$(timeout 60 "$AUDIT" -p "$HPORT" -t 5 --connect-timeout 2 --budget 40 \
	-d victim.example -f json 127.0.0.1 2>/dev/null) && rc=0 || rc=$?
tap_is "$(jq -r .verdict <<<"$out")" closed "resolver-literal: the verdict is closed"
tap_is "$rc" 0 "resolver-literal: exit 0"
tap_is "$(jq -r '.tests[] | select(.id=="B1") | "\(.attempts[0].code) \(.attempts[0].outcome) \(.outcome)"' <<<"$out")" \
	"450 untested rejected" "resolver-literal: B1 untested at MAIL (450), retried, refused at RCPT"
tap_like "$(jq -r .verdict_reason <<<"$out")" "not greylisting" \
	"resolver-literal: the report says the 450 is not greylisting"
tap_unlike "$(jq -r .verdict_reason <<<"$out")" "greylisting delay" \
	"resolver-literal: no advice to wait out greylisting"
stop_hostile
tap_done
