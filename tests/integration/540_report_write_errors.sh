#!/bin/bash
# relayguard-report never fails silently and never writes where it should not
# (issue 16, items 10 and 11). Inputs are real: an audit of a real Postfix
# with relayguard-milter in front (-f json) and the milter's own event log of
# that audit plus one more client.
#  - /dev/full and a small full tmpfs, for the HTML page and for every notify
#    output: exit non-zero, one line naming the cause, no file left half
#    written under its final name, no "->" line for a source not written;
#  - notify --out into a directory of another user: refused, nothing written;
#  - a symlink planted at an output name: replaced, its target untouched;
#  - a FIFO given as input: an error at once, not a hang.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/milter/lib.sh

rg_built "$MILTER" "$REPORT"
[ "$(id -u)" = 0 ] || tap_bail "needs root (tmpfs mounts, a directory of another user)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-writeerr.XXXXXX")
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$TMP'"

# --- real inputs ----------------------------------------------------------------
ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
PF_MAIN_EXTRA="smtpd_milters = unix:$ML_SOCK
milter_default_action = tempfail" pf_start open || tap_bail "cannot start Postfix"
"$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 10 -f json 127.0.0.1 > "$TMP/audit.json"
tap_is "$(jq -r .verdict "$TMP/audit.json")" closed "input: a real audit (Postfix behind the milter: closed)"
pf_swaks --local-interface 127.0.0.3 --from x@other.example --to someone@victim1.example \
	> "$TMP/swaks.out" 2>&1
ml_stop
pf_stop
EV=$TMP/events.jsonl
cp "$ML_DIR/events.jsonl" "$EV"
tap_is "$(jq -r 'select(.event|test("^relay_")) | .client_addr' "$EV" | sort -u | tr '\n' ' ')" \
	"127.0.0.2 127.0.0.3 " "input: the milter logged relay attempts from two sources"

notify() { timeout 60 "$REPORT" notify --events "$EV" --victim 127.0.0.1 "$@"; }
page() { timeout 60 "$REPORT" --before "$TMP/audit.json" --after "$TMP/audit.json" --storm "$EV" "$@"; }
# temporary names of lib/base/outfile.c (".NAME.XXXXXX") left behind
leftovers() { find "$1" -name '.*.??????' | wc -l; }

notify --out "$TMP/ref" > "$TMP/ref.out" 2>&1
tap_is "$?" 0 "reference: notify on a roomy disk exits 0"
tap_is "$(grep -c -- ' -> ' "$TMP/ref.out")" 2 "reference: one '->' line per source"
page > "$TMP/ref.html"
tap_is "$?" 0 "reference: the page on a roomy disk exits 0"
tap_like "$(tail -c 20 "$TMP/ref.html")" '</html>' "reference: the page is complete ($(wc -c < "$TMP/ref.html") bytes)"

# --- /dev/full ----------------------------------------------------------------------
err=$(page 2>&1 > /dev/full); rc=$?
tap_isnt "$rc" 0 "the page to /dev/full: exit non-zero (main: 0)"
tap_like "$err" 'write error on standard output: No space left on device' "and one line says why"
# --output is a file name: a device there would be replaced by rename(2) (as
# root, in /dev). /dev/full's twin in our own directory shows it is refused.
mknod "$TMP/full" c 1 7 || tap_bail "cannot make a twin of /dev/full"
err=$(page -o "$TMP/full" 2>&1); rc=$?
tap_isnt "$rc" 0 "--output naming a device: refused"
tap_like "$err" 'full: not a regular file: refusing to replace it' "with the reason"
tap_check "the device is still there" test -c "$TMP/full"
err=$(notify 2>&1 > /dev/full); rc=$?
tap_isnt "$rc" 0 "notify's e-mail bodies to /dev/full: exit non-zero"
tap_like "$err" 'write error on standard output: No space left on device' "and one line says why"
err=$(notify --out "$TMP/dfull" 2>&1 > /dev/full); rc=$?
tap_isnt "$rc" 0 "notify --out with its '->' lines to /dev/full: exit non-zero"
tap_like "$err" 'write error on standard output' "and says so"
err=$("$REPORT" --version 2>&1 > /dev/full); rc=$?
tap_isnt "$rc" 0 "--version to /dev/full: exit non-zero"
err=$("$REPORT" notify --help 2>&1 > /dev/full); rc=$?
tap_isnt "$rc" 0 "notify --help to /dev/full: exit non-zero"

# --- a small tmpfs --------------------------------------------------------------------
# tmpfs counts whole 4 KiB pages per file: room for the four files of the
# first source (as large as in the reference run) and one page more, so the
# disk fills up inside the second source.
pages=0
for f in "$TMP"/ref/127.0.0.2.*; do pages=$((pages + ($(stat -c %s "$f") + 4095) / 4096)); done
MNT=$TMP/mnt
mkdir "$MNT" && mount -t tmpfs -o size=$((pages * 4 + 4))k,mode=0755 rgtest "$MNT" ||
	tap_bail "cannot mount a tmpfs"
rg_cleanup_add "umount '$MNT'"
notify --out "$MNT/n" > "$TMP/full.out" 2> "$TMP/full.err"; rc=$?
tap_isnt "$rc" 0 "notify --out on a disk that fills up: exit non-zero"
tap_like "$(cat "$TMP/full.err")" 'No space left on device' "a message says why"
tap_is "$(wc -l < "$TMP/full.err")" 1 "in one line" || tap_diag "$(cat "$TMP/full.err")"
tap_is "$(leftovers "$MNT/n")" 0 "no temporary file is left"
tap_check "intelmq.jsonl is not left incomplete (it is absent)" test ! -e "$MNT/n/intelmq.jsonl"
bad=0
for f in "$MNT"/n/*; do
	[ -e "$f" ] || continue
	b=$(basename "$f")
	case $b in
	*.json) jq -e . "$f" > /dev/null 2>&1 || { bad=1; tap_diag "$b: not whole JSON"; } ;;
	*.xml) xmllint --noout "$f" 2>/dev/null || { bad=1; tap_diag "$b: not whole XML"; } ;;
	*.txt) [ "$(wc -l < "$f")" = "$(wc -l < "$TMP/ref/$b")" ] || { bad=1; tap_diag "$b: cut"; } ;;
	esac
done
tap_is "$bad" 0 "every file under a final name is whole ($(ls "$MNT/n" | wc -l) files)"
for src in 127.0.0.2 127.0.0.3; do
	n=$(ls "$MNT/n" | grep -c "^$src\\.")
	if grep -q "^$src: .* -> " "$TMP/full.out"; then
		tap_is "$n" 4 "$src: its '->' line is printed only with all four files written"
	else
		tap_ok "$src: no '->' line ($n of 4 files written)"
	fi
done
tap_like "$(cat "$TMP/full.out")" '^127\.0\.0\.2: .* -> ' "the source that fit is reported"
tap_unlike "$(cat "$TMP/full.out")" '127\.0\.0\.3: .* -> ' "no '->' line for the source the disk had no room for"

dd if=/dev/zero of="$MNT/fill" bs=4k count=64 2> /dev/null	# now nothing fits
err=$(notify --out "$MNT/n2" 2>&1 > "$TMP/full2.out"); rc=$?
tap_isnt "$rc" 0 "notify --out on a full disk: exit non-zero"
tap_like "$err" 'No space left on device' "with the reason"
tap_is "$(grep -c -- ' -> ' "$TMP/full2.out")" 0 "and no '->' success line"
tap_is "$(find "$MNT/n2" -type f | wc -l)" 0 "and no file at all (no 0-byte files)"
err=$(page --output "$MNT/report.html" 2>&1); rc=$?
tap_isnt "$rc" 0 "the page with --output on a full disk: exit non-zero"
tap_like "$err" 'report\.html: write error: No space left on device' "one line names the file and the cause"
tap_check "no report.html is left" test ! -e "$MNT/report.html"
tap_is "$(leftovers "$MNT")" 0 "and no temporary file"
err=$(page 2>&1 > "$MNT/shell.html"); rc=$?
tap_isnt "$rc" 0 "the page redirected by the shell onto the full disk: exit non-zero"
tap_like "$err" 'write error on standard output: No space left on device' "and one line says why"

# --- a directory of another user ---------------------------------------------------------
mkdir "$TMP/foreign" && chown nobody "$TMP/foreign" && chmod 0777 "$TMP/foreign"
err=$(notify --out "$TMP/foreign" 2>&1 > "$TMP/foreign.out"); rc=$?
tap_isnt "$rc" 0 "notify --out into a directory of another user: refused"
tap_like "$err" 'foreign: directory belongs to uid [0-9]+, not to us or root' "with the reason"
tap_is "$(ls -A "$TMP/foreign" | wc -l)" 0 "nothing is written there"
tap_is "$(grep -c -- ' -> ' "$TMP/foreign.out")" 0 "and no '->' line"
ln -s "$TMP/foreign" "$TMP/via-link"
err=$(notify --out "$TMP/via-link" 2>&1 > /dev/null); rc=$?
tap_isnt "$rc" 0 "a link to that directory is refused too"
err=$(page --output "$TMP/foreign/report.html" 2>&1); rc=$?
tap_isnt "$rc" 0 "--output into a directory of another user: refused"
tap_is "$(ls -A "$TMP/foreign" | wc -l)" 0 "nothing is written there"

# --- symlinks planted at the output names ----------------------------------------------
echo 'precious' > "$TMP/victim"
mkdir "$TMP/planted"
for b in 127.0.0.2.txt 127.0.0.2.iodef.xml 127.0.0.2.xarf.json 127.0.0.2.intelmq.json intelmq.jsonl; do
	ln -s "$TMP/victim" "$TMP/planted/$b"
done
notify --out "$TMP/planted" > /dev/null 2>&1
tap_is "$?" 0 "notify --out with links planted at five output names: exit 0"
tap_is "$(cat "$TMP/victim")" precious "the link target is untouched"
tap_is "$(find "$TMP/planted" -type l | wc -l)" 0 "each link was replaced by the output file"
tap_is "$(wc -l < "$TMP/planted/intelmq.jsonl")" 2 "intelmq.jsonl has one line per source"
tap_is "$(jq -c . "$TMP/planted/127.0.0.2.intelmq.json")" "$(head -1 "$TMP/planted/intelmq.jsonl")" \
	"its line is the source's IntelMQ document"
ln -s "$TMP/victim" "$TMP/planted/report.html"
page -o "$TMP/planted/report.html" 2> /dev/null
tap_is "$?" 0 "--output over a planted link: exit 0"
tap_is "$(cat "$TMP/victim")" precious "the link target is untouched"
tap_check "report.html is a regular file" test -f "$TMP/planted/report.html" -a ! -L "$TMP/planted/report.html"
tap_is "$(wc -l < "$TMP/planted/report.html")" "$(wc -l < "$TMP/ref.html")" "and the whole page"

# --- a FIFO as input ----------------------------------------------------------------------
mkfifo "$TMP/fifo"
for opt in --before --after --storm --fix --series; do
	start=$(date +%s)
	if [ $opt = --before ]; then
		err=$(timeout 20 "$REPORT" --before "$TMP/fifo" 2>&1 > /dev/null); rc=$?
	else
		err=$(timeout 20 "$REPORT" --before "$TMP/audit.json" $opt "$TMP/fifo" 2>&1 > /dev/null); rc=$?
	fi
	tap_like "$rc:$err" '^1:.*fifo: not a regular file' "$opt FIFO: an error at once, not a hang ($(( $(date +%s) - start )) s)"
done
err=$(timeout 20 "$REPORT" notify --events "$TMP/fifo" 2>&1 > /dev/null); rc=$?
tap_like "$rc:$err" '^1:.*fifo: not a regular file' "notify --events FIFO: an error at once, not a hang"
tap_done
