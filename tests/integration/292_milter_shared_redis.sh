#!/bin/bash
# Two MX hosts share the penalty box through a real redis-server (loopback,
# requirepass): two private Postfix instances, each with its own
# relayguard-milter (SharedState redis://:PASSWORD@127.0.0.1:PORT/0):
#   - -t and the start: right password OK, wrong or missing password a
#     clear error (exit 1); a unix socket works too;
#   - an abuser's relay attempts split 2 + 2 over both MX are boxed at the
#     threshold (4) on both, each MX logging abuser_boxed once;
#   - the keys are namespaced, hash-tagged and expire: none left after the
#     window and the box;
#   - the scripts are called by SHA1 (EVALSHA, never EVAL while the
#     server has them); after SCRIPT FLUSH the next call sends the script
#     (EVAL) and the box still works, with no shared_state_lost;
#   - a bounce storm split 4 + 4 over both MX (BounceClientThreshold 6) is
#     reported once, as bounce_storm_shared, and no MX alone sees a storm;
#   - Redis stopped (SIGSTOP: silent, a partition) and later killed mid-flow:
#     mail flows, every relay attempt is still refused, shared_state_lost
#     logged once per outage, no call past the deadline (p99 and max
#     printed); Redis back: shared_state_restored, the attempts counted
#     locally meanwhile are merged and box with the next one.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER"
for t in redis-server redis-cli curl jq swaks python3; do
	command -v "$t" >/dev/null || tap_bail "$t not installed"
done
T0=$(rg_now_ms)
# a base64-style password: "/" and "+" inside the URL's userinfo
PASS=s3c/r+et-$$-$RANDOM
R_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rg-redis.XXXXXX") || tap_bail "mktemp"
rg_cleanup_add "rm -rf '$R_DIR'"
R_PORT=$(rg_free_port tcp) || tap_bail "no free port"
DEADLINE=0.1	# SharedStateTimeout

redis_start() {
	rg_spawn "$R_DIR/redis.log" redis-server --port "$R_PORT" --bind 127.0.0.1 \
		--unixsocket "$R_DIR/redis.sock" --unixsocketperm 700 --save '' \
		--appendonly no --dir "$R_DIR" --requirepass "$PASS"
	R_PID=$RG_SPAWN_PID
	rg_wait_port 127.0.0.1 "$R_PORT" 10
}
rcli() { redis-cli -p "$R_PORT" -a "$PASS" --no-auth-warning "$@"; }
redis_start || tap_bail "redis-server did not start: $(cat "$R_DIR/redis.log")"

# --- two MX: a milter and a Postfix each -------------------------------------
BOX="AbuserThreshold 4
AbuserWindow 10
AbuserBlockTime 10
SharedStateTimeout $DEADLINE
BounceWindow 60
BounceThreshold 100
BounceRecipientThreshold 100
BounceClientThreshold 6"
declare -A MDIR MPID MPORT PDIR
for mx in 1 2; do
	MPORT[$mx]=$(rg_free_port tcp) || tap_bail "no free port"
	ml_start "$BOX
SharedState redis://:$PASS@127.0.0.1:$R_PORT/0
MetricsListen 127.0.0.1:${MPORT[$mx]}" || tap_bail "milter $mx did not start: $(cat "$ML_DIR/milter.log")"
	MDIR[$mx]=$ML_DIR MPID[$mx]=$ML_PID
	PF_MYHOSTNAME=mx$mx.site.example PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s" pf_start open || tap_bail "cannot start Postfix $mx"
	PDIR[$mx]=$PF_DIR
done
tap_ok "two MX (Postfix + milter) share redis-server on 127.0.0.1:$R_PORT"

on() { pf_use "${PDIR[$1]}"; }
ev() { jq -c --arg e "$2" 'select(.event == $e)' "${MDIR[$1]}/events.jsonl"; }
scrape() { curl -sS --max-time 5 "http://127.0.0.1:${MPORT[$1]}/metrics"; }
attempt() {	# MX FROM N LOG: one transaction with N relay recipients
	local to= i
	for ((i = 1; i <= $3; i++)); do to="$to${to:+,}r$i@victim.example"; done
	on "$1" && pf_swaks --local-interface "$2" --from a@other.example --to "$to" >"$R_DIR/$4" 2>&1
}
local_mail() {	# MX FROM LOG
	on "$1" && pf_swaks --local-interface "$2" --from a@other.example \
		--to postmaster@site.example >"$R_DIR/$3" 2>&1
}

# --- credentials ------------------------------------------------------------------
conf=${MDIR[1]}/relayguard.conf
tap_like "$("$MILTER" -t -c "$conf" 2>&1)" "shared state: 127.0.0.1:$R_PORT db 0 answers and takes the credentials" \
	"-t: the right password is accepted"
sed "s|^SharedState .*|SharedState redis://:Wr0ngPw@127.0.0.1:$R_PORT/0|" "$conf" >"$R_DIR/wrong.conf"
out=$("$MILTER" -t -c "$R_DIR/wrong.conf" 2>&1); rc=$?
tap_is "$rc" 1 "-t: a wrong password fails"
tap_like "$out" 'SharedState: 127.0.0.1:[0-9]+ db 0: WRONGPASS.*check the user and password' \
	"-t: with a clear error" || tap_diag "$out"
tap_unlike "$out" "Wr0ngPw|$PASS" "-t: the error does not print the password"
sed "s|^SharedState .*|SharedState rediss://:Typ0Secret@127.0.0.1:$R_PORT/0|" "$conf" >"$R_DIR/typo.conf"
out=$("$MILTER" -t -c "$R_DIR/typo.conf" 2>&1); rc=$?
tap_like "$rc:$out" '^1:.*SharedState: expected redis://' "-t: a mistyped scheme is refused"
tap_unlike "$out" "Typ0Secret" "-t: without printing the password in it"
sed "s|^SharedState .*|SharedState redis://127.0.0.1:$R_PORT/0|" "$conf" >"$R_DIR/nopass.conf"
tap_like "$("$MILTER" -t -c "$R_DIR/nopass.conf" 2>&1)" 'NOAUTH' "-t: a missing password fails with NOAUTH"
sed -e "s|^SharedState .*|SharedState redis://:wrong@127.0.0.1:$R_PORT/0|" \
	-e "s|^Socket .*|Socket unix:$R_DIR/wrong.sock|" -e '/^MetricsListen/d' "$conf" >"$R_DIR/wrong-start.conf"
out=$(timeout 20 "$MILTER" -f -c "$R_DIR/wrong-start.conf" 2>&1); rc=$?
tap_is "$rc" 1 "start with a wrong password: exit 1"
tap_like "$out" 'fatal.*SharedState: .*WRONGPASS' "start with a wrong password: a clear error" || tap_diag "$out"
# the ACL the man page gave before EVALSHA: a user without SCRIPT LOAD
rcli acl setuser evalonly on ">ev-$$" '~relayguard:*' +eval +select +ping >/dev/null
sed "s|^SharedState .*|SharedState redis://evalonly:ev-$$@127.0.0.1:$R_PORT/0|" "$conf" >"$R_DIR/acl.conf"
out=$("$MILTER" -t -c "$R_DIR/acl.conf" 2>&1)
tap_like "$out" "shared state: 127.0.0.1:$R_PORT db 0 answers" \
	"-t: a user allowed EVAL but not SCRIPT LOAD still works" || tap_diag "$out"
tap_like "$out" 'SCRIPT LOAD refused.*sends its script with EVAL' "-t: ... and says each call sends its script"
sed "s|^SharedState .*|SharedState unix:$R_DIR/redis.sock?db=3\&password=$PASS|" "$conf" >"$R_DIR/unix.conf"
tap_like "$("$MILTER" -t -c "$R_DIR/unix.conf" 2>&1)" "shared state: unix:$R_DIR/redis.sock db 3 answers" \
	"-t: a unix socket works too"

# --- attempts split over both MX: boxed on both ---------------------------------
attempt 1 127.0.0.2 2 s1.log
attempt 2 127.0.0.2 1 s2.log
tap_is "$(ev 1 abuser_boxed | wc -l)$(ev 2 abuser_boxed | wc -l)" 00 "3 of 4 attempts (2 on MX1, 1 on MX2): nobody boxed"
local_mail 1 127.0.0.2 s-local.log
tap_is "$?" 0 "below the threshold local mail flows"
attempt 2 127.0.0.2 1 s3.log
tap_is "$(ev 2 abuser_boxed | jq -r '"\(.source) \(.attempts)"')" "127.0.0.2/32 4" \
	"the 4th attempt (on MX2) boxes the source: abuser_boxed with the count of both MX"
local_mail 1 127.0.0.2 b1.log
tap_like "$(cat "$R_DIR/b1.log")" '554 5.7.1 Too many refused relay attempts' \
	"MX1, which saw only 2 attempts, refuses the boxed source at MAIL FROM" || tap_diag "$(tail -5 "$R_DIR/b1.log")"
tap_is "$(ev 1 abuser_boxed | jq -r '"\(.source) \(.boxed_by)"')" "127.0.0.2/32 mx2.site.example" \
	"MX1 logs abuser_boxed too, naming the MX that boxed it"
tap_is "$(ev 1 abuser_boxed | jq -r '.attempts')" 4 \
	"MX1's abuser_boxed gives the count in the shared window (4), not its own"
local_mail 2 127.0.0.2 b2.log
tap_like "$(cat "$R_DIR/b2.log")" '554 5.7.1 Too many' "MX2 refuses it as well"
local_mail 1 127.0.0.2 b3.log
tap_is "$(ev 1 abuser_boxed | wc -l)$(ev 2 abuser_boxed | wc -l)" 11 "one abuser_boxed per MX and box"

# --- keys: namespaced, hash-tagged, expiring ----------------------------------------
keys=$(rcli --scan --pattern '*' | sort)
tap_is "$keys" $'relayguard:{127.0.0.2/32}:box\nrelayguard:{127.0.0.2/32}:w' \
	"keys are namespaced and hash-tagged by source"
ttls=$(for k in $keys; do rcli ttl "$k"; done | tr '\n' ' ')
tap_like "$ttls" '^([1-9]|1[0-2]) ([1-9]|1[0-2]) $' "every key has a TTL (the box, the window): $ttls"
tap_check "the keys are gone after the window and the box" \
	rg_retry 30 bash -c "[ \"\$(redis-cli -p $R_PORT -a '$PASS' --no-auth-warning dbsize)\" = 0 ]"
tap_check "both MX log abuser_released" rg_retry 10 bash -c \
	"[ \"\$(jq -c 'select(.event==\"abuser_released\")' '${MDIR[1]}/events.jsonl' '${MDIR[2]}/events.jsonl' | wc -l)\" = 2 ]"

# --- a bounce storm split over both MX: one storm ----------------------------------
cat >"$R_DIR/dsn.eml" <<'EOM'
From: Mail Delivery System <MAILER-DAEMON@mx.elsewhere.example>
To: postmaster@site.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="B1.elsewhere"

--B1.elsewhere
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.elsewhere.example

Final-Recipient: rfc822; nobody@elsewhere.example
Action: failed
Status: 5.1.1

--B1.elsewhere--
EOM
sed -i 's/$/\r/' "$R_DIR/dsn.eml"
for mx in 1 2; do
	on $mx
	out=$(python3 tests/milter/send.py --port "$PF_PORT" --source 127.0.0.5 --sender '' \
		--rcpt 'postmaster@site.example' --count 4 --body-file "$R_DIR/dsn.eml" --timeout 30)
	tap_is "$(tail -1 <<<"$out")" "accepted=4 refused=0 tempfailed=0" "MX$mx: 4 inbound bounces from 127.0.0.5 accepted"
done
tap_is "$(cat "${MDIR[1]}/events.jsonl" "${MDIR[2]}/events.jsonl" | jq -c 'select(.event=="bounce_storm")' | wc -l)" 0 \
	"neither MX alone reaches BounceClientThreshold 6 (4 each): no local storm"
shared_storms=$(cat "${MDIR[1]}/events.jsonl" "${MDIR[2]}/events.jsonl" | jq -c 'select(.event=="bounce_storm_shared")')
tap_is "$(jq -s length <<<"$shared_storms")" 1 "the 8 bounces split over both MX are reported as one storm"
tap_is "$(jq -r '"\(.origin) \(.trigger) \(.count) \(.threshold) \(.bounce_client)"' <<<"$shared_storms")" \
	"inbound client 6 6 127.0.0.5" "bounce_storm_shared names origin, trigger, count and client"
ttls=$(rcli --scan --pattern 'relayguard:{bounce:inbound}:*' | while read -r k; do rcli ttl "$k"; done | sort -u | tr '\n' ' ')
tap_like "$ttls" '^([1-9][0-9]? )+$' "the bounce windows' keys expire too (TTLs: $ttls)"

# --- flow: attempts and local mail, alternating MX ----------------------------------
flow() {	# TAG N: N rounds; each a relay attempt from its own address, and local mail
	local i mx
	for ((i = 1; i <= $2; i++)); do
		mx=$((i % 2 + 1))
		attempt $mx "127.0.$3.$i" 1 "$1-a$i.log"
		local_mail $mx 127.0.0.9 "$1-l$i.log" || echo "local mail $i failed" >>"$R_DIR/$1.fail"
		grep -q '554 5.7.1 <r1@victim.example>: Relay access denied' "$R_DIR/$1-a$i.log" ||
			echo "attempt $i not refused" >>"$R_DIR/$1.fail"
	done
}
max_call() { scrape "$1" | awk '/^relayguard_shared_state_call_max_seconds /{print $2}'; }
p99_call() {	# the bucket bound under which 99% of the calls fell
	scrape "$1" | awk -F'[{}" ]+' '/^relayguard_shared_state_call_seconds_bucket/{b[++n]=$3; c[n]=$4}
		END{for(i=1;i<=n;i++) if(c[i] >= 0.99*c[n]){print b[i]; exit}}'
}

flow pre 4 10
tap_ok "flow with Redis up: $(cat "$R_DIR/pre.fail" 2>/dev/null || echo 'all fine')"
kill -STOP "$R_PID"
flow stopped 6 11
kill -CONT "$R_PID"
tap_is "$(cat "$R_DIR/stopped.fail" 2>/dev/null)" "" \
	"Redis stopped (silent): mail flows, every relay attempt is still refused 554 5.7.1"
tap_is "$(ev 1 shared_state_lost | wc -l)$(ev 2 shared_state_lost | wc -l)" 11 \
	"shared_state_lost logged once on each MX"
for mx in 1 2; do
	mx_max=$(max_call $mx) mx_p99=$(p99_call $mx)
	tap_diag "MX$mx: shared-state call p99 <= ${mx_p99} s, max ${mx_max} s (deadline $DEADLINE s)"
	tap_check "MX$mx: no call waited past the deadline (+0.2 s slack for a loaded machine)" \
		awk -v m="$mx_max" -v d="$DEADLINE" 'BEGIN{exit !(m != "" && m <= d + 0.2)}'
	tap_check "MX$mx: p99 within the deadline (+ the slack bucket)" \
		awk -v p="$mx_p99" -v d="$DEADLINE" 'BEGIN{exit !(p != "" && p != "+Inf" && p <= d + 0.15)}'
done
tap_check "Redis answers again: shared_state_restored on both MX" rg_retry 40 bash -c \
	"[ \"\$(jq -c 'select(.event==\"shared_state_restored\")' '${MDIR[1]}/events.jsonl' '${MDIR[2]}/events.jsonl' | wc -l)\" = 2 ]"
attempt 1 127.0.0.20 2 r1.log
attempt 2 127.0.0.20 2 r2.log
tap_is "$(ev 2 abuser_boxed | jq -r 'select(.source=="127.0.0.20/32") | .attempts')" 4 \
	"shared again: attempts split over both MX box at the threshold"

# --- scripts by SHA1; SCRIPT FLUSH costs one EVAL, not the connection ---------------
calls() {	# COMMAND: its calls in INFO commandstats (0: never)
	rcli info commandstats | tr -d '\r' |
		awk -F'[:=,]' -v c="cmdstat_$1" '$1 == c {n = $3} END {print n + 0}'
}
sha0=$(calls evalsha) eval0=$(calls eval)
attempt 1 127.0.0.21 1 e1.log
tap_check "a decision calls its script by SHA1 (EVALSHA: $sha0 -> $(calls evalsha))" \
	test "$(calls evalsha)" -gt "$sha0"
tap_is "$(calls eval)" "$eval0" "... and sends no script (EVAL) while Redis has it"
rcli script flush >/dev/null
attempt 1 127.0.0.22 2 f1.log
attempt 2 127.0.0.22 2 f2.log
tap_is "$(ev 2 abuser_boxed | jq -r 'select(.source=="127.0.0.22/32") | .attempts')" 4 \
	"after SCRIPT FLUSH attempts split over both MX still box at the threshold"
tap_check "the script lost to SCRIPT FLUSH was sent again with EVAL ($eval0 -> $(calls eval))" \
	test "$(calls eval)" -gt "$eval0"
tap_is "$(ev 1 shared_state_lost | wc -l)$(ev 2 shared_state_lost | wc -l)" 11 \
	"NOSCRIPT is no lost connection: no new shared_state_lost"

# --- Redis killed mid-flow, restarted: the local counts are merged ------------------
kill -KILL "$R_PID"
wait "$R_PID" 2>/dev/null
flow killed 4 12
attempt 1 127.0.0.30 2 m1.log
attempt 2 127.0.0.30 2 m2.log
tap_is "$(cat "$R_DIR/killed.fail" 2>/dev/null)" "" "Redis killed: mail flows, relay attempts still refused"
tap_is "$(ev 1 shared_state_lost | wc -l)$(ev 2 shared_state_lost | wc -l)" 22 "shared_state_lost once more on each MX"
tap_is "$(ev 1 abuser_boxed | jq -r 'select(.source=="127.0.0.30/32")' | wc -l)" 0 \
	"while down each MX counts alone (2 and 2 attempts): not boxed"
redis_start || tap_bail "redis-server did not restart"
tap_check "Redis restarted: shared_state_restored again on both MX" rg_retry 40 bash -c \
	"[ \"\$(jq -c 'select(.event==\"shared_state_restored\")' '${MDIR[1]}/events.jsonl' '${MDIR[2]}/events.jsonl' | wc -l)\" = 4 ]"
for mx in 1 2; do
	tap_check "MX$mx merged the attempts it counted alone" \
		rg_retry 20 grep -q "shared state: merged the relay attempts of" "${MDIR[$mx]}/milter.log"
done
# the merges add up to 4: the second one boxes the source, in the name of
# the MTA (macro j) whose attempts it merged; each MX learns the box at the
# source's next MAIL FROM and logs it with the count of the shared window
attempt 2 127.0.0.30 1 m3.log
tap_like "$(cat "$R_DIR/m3.log")" '554 5.7.1 Too many' "MX2 refuses the source the merge boxed"
tap_is "$(ev 2 abuser_boxed | jq -r 'select(.source=="127.0.0.30/32") | "\(.attempts) \(.boxed_by)"' |
	sed -E 's/mx[12]\.site\.example$/MX/')" "4 MX" \
	"the attempts kept locally were merged: boxed at 4, named after the MX whose attempts were merged"
local_mail 1 127.0.0.30 m4.log
tap_like "$(cat "$R_DIR/m4.log")" '554 5.7.1 Too many' "MX1 refuses it as well"
tap_like "$(ev 1 abuser_boxed | jq -r 'select(.source=="127.0.0.30/32") | "\(.attempts) \(.boxed_by)"')" \
	'^4 mx[12]\.site\.example$' "MX1's abuser_boxed: the shared count and the MX, not this host's name"

for mx in 1 2; do
	pf_stop "${PDIR[$mx]}"
	ML_PID=${MPID[$mx]} ml_stop
done
rg_kill_pid "$R_PID"
tap_diag "292_milter_shared_redis took $(( ($(rg_now_ms) - T0) / 1000 )) s"
tap_done
