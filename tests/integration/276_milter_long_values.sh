#!/bin/bash
# Long hostile values keep the reply text and the log line whole (review 1,
# item 10). Before the fix a RCPT with a 20 KB local part or 3000 raw 0x9b
# bytes got a bare reject (smfi_setreply refused the text above libmilter's
# limit, one warning per RCPT), and the syslog event line was cut at 2048
# bytes so recipient, queue_id, mode and reason were lost. Now the recipient
# is shortened so that the reply stays within 512 octets with Postfix's
# wording, and each key=value field is capped (HELO 255, addresses 320), so
# that mode and reason always survive.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/milter/lib.sh

rg_built "$MILTER"
ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
RAW=(python3 tests/milter/rawmilter.py --socket "unix:$ML_SOCK" --family 4 --addr 192.0.2.7)
L=$(printf 'A%.0s' $(seq 20000))
X=$(printf '\x9b%.0s' $(seq 3000))
H=$(printf 'h%.0s' $(seq 20000))

out=$("${RAW[@]}" --helo "$H" --sender "<$L@other.example>" --rcpt "<$L@victim.example>" 2>&1)
reply=$(LC_ALL=C sed -n 's/^RCPT .* reply //p' <<<"$out")
tap_like "$reply" '^554 5\.7\.1 <AAAA+\.\.\.>: Relay access denied$' \
	"a 20 KB local part: the reply keeps the text, the recipient shortened" || tap_diag "${out:0:300}"
tap_check "and the reply line is within 512 octets (${#reply} + CRLF)" test $((${#reply} + 2)) -le 512

out=$("${RAW[@]}" --rcpt "<$X@victim.example>" 2>&1)
reply=$(LC_ALL=C sed -n 's/^RCPT .* reply //p' <<<"$out")
tap_like "$reply" '^554 5\.7\.1 <(\\x9b)+\.\.\.>: Relay access denied$' \
	"3000 raw 0x9b bytes: escaped, shortened, the text kept" || tap_diag "${out:0:300}"
tap_check "and the reply line is within 512 octets (${#reply} + CRLF)" test $((${#reply} + 2)) -le 512
tap_is "$(grep -ac 'smfi_setreply' "$ML_DIR/milter.log")" 0 "no smfi_setreply failure logged"

rg_retry 5 rg_count_ge 2 grep -ac 'event=relay_refused' "$ML_DIR/milter.log"
mapfile -t lines < <(grep -a 'event=relay_refused' "$ML_DIR/milter.log")
tap_is "${#lines[@]}" 2 "two relay_refused log lines"
for i in 0 1; do
	tap_like "${lines[$i]}" ' recipient="?<[^ ]*\.\.\."? .*mode=enforce .*reason=' \
		"line $((i + 1)): recipient (cut), mode and reason all survive (${#lines[$i]} bytes)"
done
tap_like "${lines[0]}" ' helo="?h{200,255}(\.\.\.)?"? sender=' "the 20 KB HELO is cut, not the line"
tap_is "$(ml_event_count relay_refused)" 2 "the JSON event log has both events"
ml_stop
tap_done
