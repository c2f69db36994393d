#!/bin/bash
# rg-timeout: 300
# relayguard-audit's round trips on one target (issue 21), where they show:
# a real Postfix and a real Exim (both open relays) behind bench/delayproxy,
# 50 ms each way, as on an Internet path. What saves a round trip is read
# from the transcript, never from the clock:
#   - Postfix is not measured (its first errors come at once): session 1's
#     first probes go as a group;
#   - an identity probe's EHLO fences the group before it, and the EHLO back
#     to the default name fences the identity probe (RFC 2920: EHLO may end
#     a group);
#   - the DATA check's DATA goes in the group of its MAIL and RCPT;
#   - a lane the DATA pass leaves idle says QUIT before the DATA replies come;
#   - an EHLO fence refused by a HELO check is told from a stream out of
#     step by a NOOP alone;
#   - on a server that is measured (Exim: no banner rule), the lanes measure
#     together (one probe each), and session 1 takes no identity meanwhile;
#   - on Postfix, once a plain probe relayed, the probes of one sender share
#     a transaction: fewer queue files.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/exim.sh
PROXY=$BUILD/bench/delayproxy
rg_built "$AUDIT" "$PROXY"
W=$(mktemp -d "${TMPDIR:-/tmp}/rg-rtt.XXXXXX")
rg_cleanup_add "rm -rf $W"

# proxy_start BACKEND_PORT: PROXY_PORT on 127.0.0.1 relays to it from 127.0.0.2
proxy_start() {
	PROXY_PORT=$(rg_free_port)
	rg_spawn "$W/proxy.$1.log" "$PROXY" -l 127.0.0.1 -p "$PROXY_PORT" \
		-m "127.0.0.1=127.0.0.1:$1" -d 50 -s 127.0.0.2 -t 300
	PROXY_PID=$RG_SPAWN_PID
	rg_wait_port 127.0.0.1 "$PROXY_PORT" 10 || tap_bail "delayproxy did not start"
}
audit() {	# the open relay through the proxy, with the transcript
	"$AUDIT" -p "$PROXY_PORT" -d victim.example -t 60 -f json -T 127.0.0.1
}
# the commands of one session, in order: "> CMD" and "< CODE" lines
dialogue() {	# JSON SESSION
	jq -r --argjson s "$2" '.transcript[] | select(.session == $s and
		(.dir == ">" or .dir == "<")) | "\(.dir) \(.line)"' <<<"$1"
}
# every session's lines, each prefixed by the one before it in that session
pairs() {	# JSON
	jq -r '.transcript | map(select(.dir == ">" or .dir == "<")) | group_by(.session)[] |
		. as $l | range(1; length) | "\($l[. - 1].dir) \($l[. - 1].line)\t\($l[.].dir) \($l[.].line)"' <<<"$1"
}

pf_start open || tap_bail "cannot start Postfix (open)"
proxy_start "$PF_PORT"
before=$(pf_log_count ': client=')
out=$(audit)
sleep 0.5	# the last log lines
files=$(($(pf_log_count ': client=') - before))
tap_is "$(jq -r .verdict <<<"$out")" open_relay "postfix: an open relay"
tap_diag "postfix: $(jq -c '{sessions, elapsed_seconds}' <<<"$out")"
# Postfix opens a queue file at a transaction's first accepted RCPT
# ("QUEUEID: client=" in its log): the plain probes go first, and once one
# is accepted the probes of one sender share a transaction (probe_joins;
# 57 queue files when each probe had its own; on loopback without the
# proxy the other lanes may build their groups before that answer comes)
tap_check "postfix: probes of one sender share transactions ($files queue files <= 40)" \
	[ "$files" -le 40 ]
# the plain probes go before the after-local ones, which would otherwise
# fill session 1's first group (the costlier first); A9, not A1: A1's
# start is that of its DATA check, run again last
tap_check "postfix: the plain probe A9 starts no later than any after-local probe" \
	jq -e '([.tests[] | select(.id == "A9") | .start] | max) <=
		([.tests[] | select(.id | startswith("L1")) | .start] | min)' <<<"$out"

# the MAILs of session 1's first write after its EHLO was answered
first=$(dialogue "$out" 1 | awk '/^> EHLO/ && !e {e = 1; next} e == 1 && /^>/ {e = 2}
	e == 2 && /^</ {exit} e == 2 && /^> MAIL/ {n++} END {print n + 0}')
tap_check "postfix: not measured, session 1's first group holds $first probes (> 1)" \
	[ "$first" -gt 1 ]
tap_check "postfix: an identity's EHLO fences a group of probes" \
	grep -qP '^> RCPT TO:.*\t> EHLO (?!victim\.example$)' <<<"$(pairs "$out")"
tap_check "postfix: the EHLO back to the default name fences an identity probe" \
	grep -qP '^> RCPT TO:.*\t> EHLO victim\.example$' <<<"$(pairs "$out")"
datas=$(jq '[.transcript[] | select(.dir == ">" and .line == "DATA")] | length' <<<"$out")
piped=$(pairs "$out" | grep -cP '^> RCPT TO:.*\t> DATA$' || true)
tap_check "postfix: each of the $datas DATA checks goes in its RCPT's group ($piped)" \
	test "$datas" -ge 1 -a "$piped" -eq "$datas"
tap_is "$(jq '[.tests[] | select(.data == "taken")] | length' <<<"$out")" "$datas" \
	"postfix: every DATA check drew 354 and was dropped"
order=$(jq -r '[.transcript[] | select((.dir == ">" and .line == "QUIT") or
	(.dir == "<" and (.line | startswith("354"))))][0].line' <<<"$out")
tap_is "$order" QUIT "postfix: the idle lane said QUIT before the DATA replies came"
rg_kill_pid "$PROXY_PID"
pf_stop

# A server that takes a second EHLO but refuses some names at EHLO (HELO
# checks not delayed to RCPT): the EHLO that fences a group is refused, a
# NOOP alone shows the stream in step (the refusal was the EHLO's), nothing
# falls back to lock-step, and the identity is graded as lock-step grades it.
PF_MAIN_EXTRA="smtpd_delay_reject = no
smtpd_helo_restrictions = check_helo_access inline:{localhost=REJECT, site.example=REJECT, mail.site.example=REJECT, [127.0.0.1]=REJECT}" \
	pf_start open || tap_bail "cannot start Postfix (HELO checks)"
# one lane: its session is live when an identity comes (with more, fresh
# sessions take the identities, their EHLO refused at the greeting)
out=$("$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 60 -f json -T --per-host 1 127.0.0.1)
ref=$("$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 60 -f json --per-host 1 --no-pipelining 127.0.0.1)
# the refused fence (the group's last reply), then the NOOP alone and its 250
refused=$(jq -r '.transcript | map(select(.dir == ">" or .dir == "<")) | group_by(.session)[] |
	. as $l | range(1; length - 2) | select($l[.].dir == "<" and
	($l[.].line | test("^5.*Helo command rejected")) and $l[. - 1].dir == "<") |
	"\($l[.].line[0:3]), \($l[. + 1].line), \($l[. + 2].line[0:3])"' <<<"$out")
tap_diag "helo checks: refused fences: ${refused:-none}"
tap_check "helo checks: a refused EHLO fence is verified by a NOOP alone" \
	grep -q '^5[0-9][0-9], NOOP, 250$' <<<"$refused"
tap_is "$(jq -c '.pipelining | [.lockstep_fallback, .desync]' <<<"$out")" "[false,false]" \
	"helo checks: no fallback to lock-step (the stream was in step)"
tap_is "$(jq -r .verdict <<<"$out")" "$(jq -r .verdict <<<"$ref")" "helo checks: the lock-step run's verdict"
tap_is "$(jq -r '.tests[] | "\(.id) \(.outcome)"' <<<"$out" | LC_ALL=C sort)" \
	"$(jq -r '.tests[] | "\(.id) \(.outcome)"' <<<"$ref" | LC_ALL=C sort)" \
	"helo checks: every probe's outcome is the lock-step run's"
pf_stop

mta_start exim open || tap_bail "cannot start exim (open)"
proxy_start "$MTA_PORT"
out=$(audit)
tap_is "$(jq -r .verdict <<<"$out")" open_relay "exim: an open relay"
tap_diag "exim: $(jq -c '{sessions, elapsed_seconds}' <<<"$out")"
# while measuring, session 1 sends its first three MAILs one round trip
# apart, then a group; a lane that waited for the measuring would send its
# first MAIL only after that group (its EHLO first). Measuring together,
# another lane greeted meanwhile has sent one by then.
tap_diag "exim: first MAIL per session: $(jq -c '[.transcript[] | select(.dir == ">" and
	(.line | startswith("MAIL")))] | group_by(.session) | map({(.[0].session | tostring):
	.[0].time[17:23]}) | add' <<<"$out")"
others=$(jq '[.transcript[] | select(.dir == ">" and (.line | startswith("MAIL")))] |
	(map(.session == 1) | indices(true)[3]) as $fourth |
	.[0:$fourth] | map(select(.session != 1)) | length' <<<"$out")
tap_check "exim: the lanes measure together ($others MAILs of other sessions before session 1's fourth)" \
	[ "$others" -ge 1 ]
ehlos=$(dialogue "$out" 1 | awk '/^> MAIL/ {exit} /^> EHLO/ {n++} END {print n + 0}')
tap_is "$ehlos" 1 "exim: session 1 says no identity while measuring (EHLOs before its first MAIL)"
rg_kill_pid "$PROXY_PID"
mta_stop
tap_done
