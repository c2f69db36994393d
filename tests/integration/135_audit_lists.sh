#!/bin/bash
# relayguard-audit at CSIRT scale, input and output: target lists from stdin,
# -iL files, ZMap and ZGrab2-style CSV; --shard partitions exactly; --resume
# skips what an earlier run wrote; --exclude never contacts a listed address;
# --rate spaces new connections; -f jsonl streams each result as it is graded;
# --fields intelmq passes IntelMQ's harmonization check.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/hostile.sh

rg_built "$HOSTILE"
W=$(mktemp -d "${TMPDIR:-/tmp}/rg-lists.XXXXXX")
rg_cleanup_add "rm -rf '$W'"
pf_start open >/dev/null || tap_bail "cannot start Postfix"
PF="127.0.0.1:$PF_PORT"
A=("$AUDIT" -s 127.0.0.2 -d victim.example --connect-timeout 2 -t 5)

# --- stdin, "-", and a list file with comments and blank lines
out=$(printf '# targets\n\n%s\n' "$PF" | "${A[@]}" -f jsonl - 2>"$W/err")
tap_is "$(jq -r '"\(.target) \(.verdict)"' <<<"$out")" "$PF open_relay" \
	"stdin ('-'): the target read from stdin is audited (open relay found)"
printf '%s\n' "$PF" >"$W/list"
out=$("${A[@]}" -f jsonl -iL "$W/list" 2>/dev/null)
tap_is "$(jq -r .verdict <<<"$out")" open_relay "-iL FILE: audited"

# --- ZGrab2-style CSV (IP, DOMAIN, TAG, PORT) with a header, and ZMap output
printf 'ip,domain,tag,port\n127.0.0.1, mail.site.example, smtp, %s\n' "$PF_PORT" >"$W/zgrab.csv"
out=$("${A[@]}" -f jsonl -iL "$W/zgrab.csv" 2>/dev/null)
tap_is "$(jq -r '"\(.host) \(.port) \(.verdict)"' <<<"$out")" "127.0.0.1 $PF_PORT open_relay" \
	"ZGrab2 CSV: IP and PORT columns used, header skipped"
printf 'saddr\n127.0.0.1\n' >"$W/zmap.txt"
out=$("${A[@]}" -p "$PF_PORT" -f jsonl -iL "$W/zmap.txt" 2>/dev/null)
tap_is "$(jq -r .verdict <<<"$out")" open_relay "ZMap output (bare IPs, header saddr) with -p"
# A bad line is warned about (FILE:LINE) and skipped, never the end of a run
# whose earlier targets were audited already (review finding 2).
# (the target after them is another server: the same one twice is folded)
start_hostile normal-reject
printf '%s\nnot a target\n,,,\n127.0.0.1:99999999999999999999\n%s\n%s\n' "$PF" \
	"$(head -c 600 /dev/zero | tr '\0' a)" "127.0.0.1:$HPORT" >"$W/bad.txt"
out=$("${A[@]}" -f jsonl -iL "$W/bad.txt" 2>"$W/err"); rc=$?
tap_is "$(jq -r .verdict <<<"$out" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" " 1 closed  1 open_relay " \
	"bad lines skipped: the targets before and after them are audited"
tap_is "$rc" 2 "bad lines skipped: the exit status is the verdicts' (open relay: 2)"
tap_like "$(cat "$W/err")" "bad.txt:2: 'not a target'.*line skipped" "a bad line is named FILE:LINE"
tap_like "$(cat "$W/err")" "bad.txt:3: CSV line without IP or DOMAIN" "a CSV line without IP or DOMAIN is named"
tap_like "$(cat "$W/err")" "bad.txt:4: .*bad port" "a bad port is named"
tap_like "$(cat "$W/err")" "4 bad lines in the target lists skipped" "the bad lines are counted"
# a UTF-8 BOM (first line, and after cat a b), CSV "quotes", [v6] in CSV IP
printf '\xef\xbb\xbf%s\n\xef\xbb\xbf"127.0.0.1",,,"%s"\n[::1],,,%s\n' "$PF" "$PF_PORT" \
	"$(rg_free_port tcp)" >"$W/bom.csv"
out=$("${A[@]}" --connect-timeout 1 -f jsonl -iL "$W/bom.csv" 2>"$W/err")
tap_is "$(jq -r '"\(.host) \(.verdict)"' <<<"$out" | sort | tr '\n' ' ')" \
	"127.0.0.1 open_relay ::1 unreachable " \
	"UTF-8 BOM stripped, CSV double quotes stripped, [v6] accepted in the CSV IP field"
tap_unlike "$(cat "$W/err")" "skipped" "no line of the BOM/quoted CSV list is skipped"
tap_like "$(cat "$W/err")" "1 duplicate targets audited once" \
	"the quoted CSV line is the BOM line's target again: audited once"

# --- IntelMQ field names, and what every object names
"${A[@]}" -f jsonl --fields intelmq --feed-name relayguard-test "$PF" >"$W/intelmq.jsonl" 2>/dev/null
tap_check "--fields intelmq: IntelMQ harmonization check passes" \
	python3 tests/intelmq/check_harmonization.py "$W/intelmq.jsonl"
tap_is "$(jq -r '[."source.ip", ."source.port", ."protocol.application", ."classification.taxonomy", ."classification.type", ."classification.identifier", ."feed.name"] | join(" ")' "$W/intelmq.jsonl")" \
	"127.0.0.1 $PF_PORT smtp vulnerable vulnerable-system openrelay relayguard-test" \
	"--fields intelmq: source, protocol and classification of an open relay"
tap_check "every object names tool version, schema version and vantage address" jq -e \
	'."extra.tool_version" != null and ."extra.schema_version" != null and ."extra.vantage" == "127.0.0.2"' \
	"$W/intelmq.jsonl"

# --- --shard I/N: union is the list, shares are disjoint (refused ports: fast)
for i in $(seq 1 60); do echo "127.0.0.$((i % 3 + 1)):$((40000 + i))"; done >"$W/many"
for s in 0 1 2; do
	"${A[@]}" -f jsonl --shard "$s/3" -iL "$W/many" 2>/dev/null | jq -r .target | sort >"$W/shard$s"
done
tap_is "$(sort "$W"/shard[012] | uniq | wc -l)" 60 "--shard: the union of the 3 shares is the list"
tap_is "$(sort "$W"/shard[012] | uniq -d | wc -l)" 0 "--shard: no target is in two shares"
tap_check "--shard: every share holds some targets" test -s "$W/shard0" -a -s "$W/shard1" -a -s "$W/shard2"
"${A[@]}" -f jsonl --shard 1/3 -iL <(sort -r "$W/many") 2>/dev/null | jq -r .target | sort >"$W/shard1r"
tap_check "--shard: the same share whatever the order of the list" cmp -s "$W/shard1" "$W/shard1r"

# --- --resume: a run cut short, then resumed, audits each target exactly once
"${A[@]}" -f jsonl -iL "$W/many" 2>/dev/null | head -25 >"$W/part.jsonl"
printf '{"target": "127.0.0.9:1", "ho' >>"$W/part.jsonl"	# a line cut off mid-write
"${A[@]}" -f jsonl --resume "$W/part.jsonl" -iL "$W/many" 2>"$W/err" >"$W/rest.jsonl"
tap_is "$(wc -l <"$W/rest.jsonl")" 35 "--resume: only the 35 targets missing from the earlier output"
tap_is "$({ cat "$W/part.jsonl"; echo; cat "$W/rest.jsonl"; } | jq -R -r "fromjson? | .target" | sort -u | wc -l)" 60 \
	"--resume: both outputs together cover the list"
tap_like "$(cat "$W/err")" "part.jsonl:26: not a result object" "--resume: a truncated line is named, not fatal"

# --- --exclude: listed addresses are never contacted
before=$(pf_log_count 'connect from')
printf '# opt-out\n127.0.0.0/8\n' >"$W/optout"
out=$("${A[@]}" -f jsonl --exclude "$W/optout" "$PF" localhost:"$PF_PORT" 2>"$W/err")
tap_is "$out" "" "--exclude: no result for excluded targets (numeric and by name)"
tap_is "$(pf_log_count 'connect from')" "$before" "--exclude: Postfix saw no connection"
tap_like "$(cat "$W/err")" "2 targets excluded" "--exclude: counted on stderr"

# --- --rate: 8 refused connections at 4/s take >= 1.75 s
t0=$(rg_now_ms)
"${A[@]}" -j 8 -f jsonl --rate 4 $(head -8 "$W/many") >/dev/null 2>&1
ms=$(( $(rg_now_ms) - t0 ))
tap_check "--rate 4: 8 connections took ${ms} ms (>= 1750)" test "$ms" -ge 1750

# --- progress line: on a terminal only (script(1) gives it one)
script -qfec "$(printf '%q ' "${A[@]}") -f jsonl $PF >/dev/null" "$W/tty.log" >/dev/null 2>&1
tap_like "$(tr '\r' '\n' <"$W/tty.log")" "1/1 done, 1 open relays, 0 inconclusive" \
	"progress: done/total and open relays on a terminal"
# not a terminal: no progress line, only the summary line at the end
tap_like "$("${A[@]}" -f jsonl "$PF" 2>&1 >/dev/null)" '^relayguard-audit: 1 target: 1 open_relay, .* in [0-9.]+ s$' \
	"progress: silent when stderr is not a terminal (the summary line only)"

# --- -f jsonl streams: the first result is readable while the run goes on
# (a silent server holds the second target for --budget 6 s).
HPORT=$(rg_free_port tcp)
coproc HOST_PROC { exec "$HOSTILE" silent "$HPORT" 2>/dev/null; }
rg_cleanup_add "rg_kill_pid $HOST_PROC_PID"
read -r -t 5 line <&"${HOST_PROC[0]}"
[ "$line" = ready ] || tap_bail "hostile_smtpd silent did not start"
mkfifo "$W/fifo"
"${A[@]}" -j 2 -f jsonl --budget 6 "127.0.0.1:$HPORT" "$PF" >"$W/fifo" 2>/dev/null &
apid=$!
rg_cleanup_add "rg_kill_pid $apid"
exec 7<"$W/fifo"
t0=$(rg_now_ms)
read -r -t 20 first <&7
ms=$(( $(rg_now_ms) - t0 ))
tap_is "$(jq -r .verdict <<<"$first")" open_relay "jsonl: the first line is the finished target"
tap_check "jsonl: it arrived while the run was still going (${ms} ms, run alive)" \
	rg_pid_alive "$apid"
read -r -t 30 second <&7
tap_is "$(jq -r .verdict <<<"$second")" inconclusive "jsonl: the slow target follows when graded (never greeted: inconclusive)"
exec 7<&-
wait "$apid"
tap_done
