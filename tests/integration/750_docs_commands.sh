#!/bin/bash
# Every example command of the documentation runs as printed (issue 19).
# tests/tools/doc_commands.py extracts them from README.md, docs/*.md and the
# man pages' .nf blocks; each one is either run here, with its documented
# exit status, or listed in SKIP with the reason it cannot run here (the
# Internet, root on the real system, a long time). A command in no table is
# a failure: a new example gets classified when it is written.
#
# Run against the test servers: two real Postfix (tests/lib/postfix.sh), one
# "open" and one "closed", and NSD serving tests/dns/relay.test.zone
# (tests/lib/dns.sh). The only changes made to a command, all in subst():
#   - the audited host (mail.site.example, mx.example.org, SUSPECT_HOST,
#     192.0.2.25, 127.0.0.1) becomes 127.0.0.1, and its port (-p N, or none)
#     the chosen Postfix's port; OUTSIDE_ADDR (a vantage outside the server's
#     networks) becomes 127.0.0.2;
#   - "--import postfix" reads the test Postfix (postfix:CONFIG_DIR), the
#     nameserver 127.0.0.1:5353 is the test NSD, /tmp/ is the scratch dir.
# Files a command names relatively (reporter.conf, relayguard.conf,
# events.jsonl, targets.txt) are fixtures in its working directory; the
# programs are the ones in $BUILD.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/dns.sh

for p in relayguard-audit relayguard-milter relayguard-report; do
	[ -x "$BUILD/$p" ] || tap_bail "$BUILD/$p not built"
done
W=$(mktemp -d "${TMPDIR:-/tmp}/rg-docs.XXXXXX") || tap_bail "mktemp"
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$W'"
chmod 755 "$W"
BIN=$(cd "$BUILD" && pwd)

# closed to every loopback vantage: the docs audit from outside, with -s or
# without (the default source 127.0.0.1 is the closed profile's own network)
PF_MAIN_EXTRA="mynetworks = 127.0.0.9/32" pf_start closed || tap_bail "cannot start the closed Postfix"
CLOSED_PORT=$PF_PORT
pf_start open || tap_bail "cannot start the open Postfix"
OPEN_PORT=$PF_PORT
dns_start tests/dns/relay.test.zone || tap_bail "cannot start NSD"

# Not run here, and why. ERE on the command; the first match wins.
SKIP=$(cat <<'TABLE'
^make (demo|check)$	long: minutes, and make check runs this test
^make deb	root and long: builds and installs the Debian package (730_deb_install.sh)
^make && sudo make install	root: installs into the system (710_install.sh)
^make bench	long: minutes against nmap (docs/MEASUREMENTS.md)
sudo tee -a /etc/relayguard	root: appends to the system's /etc/relayguard/relayguard.conf
^relayguard-milter -t$	the installed /etc/relayguard/relayguard.conf (730_deb_install.sh runs it)
^relayguard-milter -c /etc/relayguard/	starts the daemon on the installed config (root)
--import sendmail:/etc/mail >>relayguard.conf$	a sendmail installation in /etc/mail (216_milter_import.sh imports a copy)
^relayguard-report blocklist --events /var/log/relayguard/	the installed milter's event log (296_milter_fail2ban.sh runs each form on a real one)
^zmap 	the Internet: zmap scans 192.0.2.0/24 as root
^relayguard-audit -d relaytest.cert.example	the Internet: a national-scale run (docs/SCALING.md)
--mx --dnsbl bl.example -f json example.org	the Internet: the MX of example.org in the public DNS
--starttls always 192.0.2.25	TLS on port 587: the test Postfix offers no STARTTLS (110_audit_tls.sh)
TABLE
)

# Run here: ERE on the command, the server (open, closed, none), the exit
# status and where the docs say it.
RUN=$(cat <<'TABLE'
-s OUTSIDE_ADDR -d victim.example mail.site.example	closed	0	README first run: "0 closed"
-f iodef --tlp amber --reporter reporter.conf SUSPECT_HOST	open	2	relayguard-audit(1) EXIT STATUS: 2 open_relay
^relayguard-report notify --events events.jsonl	none	0	relayguard-report(1) EXIT STATUS
-s 127.0.0.2 -p 2525 -d victim.example 127.0.0.1	open	2	README Quick tour: "echo $?" prints 2
-s 127.0.0.2 -p 2525 127.0.0.1; echo \$\?	open	0	the last command is echo
^relayguard-milter -t -c relayguard.conf	none	0	relayguard-milter(8): -t exits 0 on a valid config
^relayguard-milter -n -c relayguard.conf	none	0	relayguard-milter(8)
^relayguard-milter -d$	none	0	relayguard-milter(8)
^relayguard-milter --import postfix	none	0	relayguard-milter(8) --import
^relayguard-audit -d relaytest.example.net mx.example.org	closed	0	relayguard-audit(1) EXIT STATUS: 0 closed
--mx --nameserver 127.0.0.1:5353 -p 2525 relay.test	open	2	relayguard-audit(1) EXIT STATUS: the worst target, mx1 open_relay (2) before mx2 unreachable
-iL targets.txt --resume out.jsonl >> out.jsonl	closed	0	relayguard-audit(1) --resume: a missing file is a first run
-iL targets.txt -o out.jsonl$	closed	0	relayguard-audit(1) EXIT STATUS: 0 closed
-iL targets.txt -o out.jsonl --resume out.jsonl	closed	0	relayguard-audit(1) --resume: nothing left to audit
TABLE
)

# Known gaps in the programs (not the docs) a command runs into: its check
# is a TAP TODO with this reason until the program is fixed.
TODO=$(cat <<'TABLE'
TABLE
)

# The fixtures, in the directory every command runs in.
cp conf/reporter.conf "$W/reporter.conf"
cat >"$W/events.jsonl" <<'EV'
{"time":"2026-06-23T12:34:00.000+09:00","event":"milter_start","pid":4242,"clock":"synchronised"}
{"time":"2026-06-23T12:35:00.000+09:00","event":"relay_refused","action":"reject","client_addr":"192.0.2.7","helo":"spam.example","sender":"<a@spam.example>","recipient":"<user@victim.example>","mode":"enforce","reason":"x"}
EV
{
	printf 'Socket unix:%s/milter.sock\nMode log-only\nEventLog %s/events-milter.jsonl\n' "$W" "$W"
	"$BIN/relayguard-milter" --import "postfix:$PF_CONF" 2>/dev/null
} >"$W/relayguard.conf"

# subst SERVER CMD: the command as run here (see the header)
subst() {
	local port cmd=$2
	case $1 in open) port=$OPEN_PORT ;; closed) port=$CLOSED_PORT ;; *) port= ;; esac
	cmd=${cmd//OUTSIDE_ADDR/127.0.0.2}
	cmd=$(sed -E 's/(^| )(mail\.site\.example|mx\.example\.org|SUSPECT_HOST|192\.0\.2\.25)( |$|;)/\1127.0.0.1\3/g' <<<"$cmd")
	if [ -n "$port" ]; then
		if grep -qE '(^| )-p [0-9]+' <<<"$cmd"; then
			cmd=$(sed -E "s/(^| )-p [0-9]+/\\1-p $port/" <<<"$cmd")
		else
			cmd=$(sed -E "s/^relayguard-audit /relayguard-audit -p $port /" <<<"$cmd")
		fi
		printf '127.0.0.1:%s\n' "$port" >"$W/targets.txt"
	fi
	cmd=${cmd//\/tmp\//$W\/}
	cmd=${cmd//--import postfix/--import postfix:$PF_CONF}
	cmd=${cmd//127.0.0.1:5353/$DNS_NS}
	printf '%s' "$cmd"
}

# first TAB-separated row of TABLE whose ERE matches CMD
row() {
	local pat rest
	while IFS=$'\t' read -r pat rest; do
		[ -n "$pat" ] && grep -qE -- "$pat" <<<"$2" && { printf '%s\t%s' "$pat" "$rest"; return 0; }
	done <<<"$1"
	return 1
}

# --- the README's first screen, and the measured tables in docs/ -------------
first=$(head -n 45 README.md)
for p in relayguard-audit relayguard-milter relayguard-report 'make demo' 'make check' \
	'First run for a mail admin' 'First run for a CSIRT'; do
	tap_like "$first" "$p" "README's first screen (45 lines) names: $p"
done
tap_like "$(grep -c '^    relayguard-' <<<"$first")" '^[4-9]$' "and shows a first run as commands"
tables() { grep -cE '^\| *(fuzz_[a-z]+ |1024 |65536 |clean |faults |Postfix 3|Exim 4|OpenSMTPD 6|sendmail 8|Courier 1|open |closed |1000 )' "$1"; }
tap_is "$(tables README.md)" 0 "no measured table (bench, MTA matrix, counter table, soak, fuzz) left in the README"
tap_like "$(tables docs/MEASUREMENTS.md)" '^[1-9][0-9]+$' "docs/MEASUREMENTS.md holds the bench, counter-table, soak and fuzz rows"
tap_like "$(grep -c '^| Postfix 3\|^| Exim 4\|^| sendmail' docs/MATRIX.md)" '^[1-9][0-9]*$' "docs/MATRIX.md holds the MTA matrix"
for d in docs/MEASUREMENTS.md docs/MATRIX.md; do
	tap_like "$(grep -c "$d" README.md)" '^[1-9]' "the README points to $d"
done

# --- every example command ----------------------------------------------------
python3 tests/tools/doc_commands.py >"$W/commands.jsonl" || tap_bail "doc_commands.py failed"
n=$(wc -l <"$W/commands.jsonl")
tap_like "$n" '^[1-9][0-9]+$' "the docs hold $n example commands"
ran=0 skipped=0
while IFS=$'\t' read -r id cmd; do
	if r=$(row "$SKIP" "$cmd"); then
		tap_ok "$id: not run here: ${r#*$'\t'} ($cmd)"
		skipped=$((skipped + 1))
		continue
	fi
	if ! r=$(row "$RUN" "$cmd"); then
		tap_fail "$id: in neither table of $0: $cmd"
		continue
	fi
	IFS=$'\t' read -r _ server want why <<<"$r"
	run=$(subst "$server" "$cmd")
	(cd "$W" && PATH="$BIN:$PATH" timeout 300 bash -c "$run") >"$W/out" 2>"$W/err" </dev/null
	rc=$?
	todo=
	t=$(row "$TODO" "$cmd") && todo=${t#*$'\t'}
	TAP_TODO=$todo tap_is "$rc" "$want" "$id: exits $want ($why): $run" ||
		tap_diag "$(tail -5 "$W/err")"
	ran=$((ran + 1))
done < <(jq -r '"\(.id)\t\(.cmd)"' "$W/commands.jsonl")
tap_like "$ran" '^[1-9][0-9]*$' "$ran commands ran against the test servers, $skipped listed with a reason"
tap_done
