#!/bin/bash
# rg-timeout: 600
# Issue 16, items 15 and 16: a remedy deletes whole statements, and each of
# its delete patterns matches something in the file it names on Debian's
# stock layout.
#  - Every remedy row of every verified MTA (Postfix, sendmail, Exim,
#    OpenSMTPD; the rows come from audit/remedy.c through test_remedy --dump)
#    is applied, literally as tests/lib/mta_fix.py applies a JSON remedy, to
#    Debian's stock configuration files of its MTA (the packages unpacked by
#    scripts/mta-unpack.sh: Exim's split conf.d, sendmail's
#    cf/debian/sendmail.mc and examples/db/access, OpenSMTPD's smtpd.conf;
#    Postfix's main.cf.debian and master.cf.dist) made to have the hole the
#    row fixes, in the
#    forms its patterns name, statements spread over several lines included.
#    Exim's rows also to the unsplit exim4.conf.template they name.
#    Checked per row: the hole is valid configuration; every delete pattern
#    matched a statement of the file the step names (--strict); the MTA's own
#    syntax check passes afterwards (update-exim4.conf + exim -bV -C, m4 build
#    of the .mc with no warning + makemap, smtpd -n, postconf -n + postfix
#    check); no line of the hole is left (a continuation line left behind
#    joins the statement before it); no other line of the file was lost and
#    every added line is one of the step's.
#  - A real Exim 4.96 with "accept senders = *@+local_domains" followed by
#    its indented "control = submission", right after "require verify =
#    sender": the audit's remedy, applied from its JSON report, deletes the
#    whole statement: exim -bh shows no submission mode for an outside
#    message (it did with the first line deleted alone), the forged local
#    sender is refused, the trusted host still relays in submission mode.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
DUMP=$BUILD/tests/test_remedy
FIX=tests/lib/mta_fix.py
source tests/lib/exim.sh
source tests/lib/opensmtpd.sh
source tests/lib/sendmail.sh

[ -x "$DUMP" ] || tap_bail "no $DUMP (make)"
for t in "$EX_TREE" "$SM_TREE" "$OS_TREE"; do
	[ -f "$t/.stamp" ] || tap_bail "$t is not unpacked (make deps)"
done
W=$(mktemp -d "${TMPDIR:-/tmp}/rg-remedy.XXXXXX") || tap_bail "mktemp"
rg_cleanup_add "rm -rf '$W'"

# --- Debian's stock files, at their paths under a root ----------------------

stock_tree() {	# KIND ROOT
	local root=$2
	case $1 in
	exim)
		mkdir -p "$root/etc" && cp -r "$EX_TREE/etc/exim4" "$root/etc/" || return 1
		cat >"$root/etc/exim4/update-exim4.conf.conf" <<'EOF'
dc_eximconfig_configtype='internet'
dc_other_hostnames='site.example'
dc_local_interfaces='127.0.0.1'
dc_readhost=''
dc_relay_domains=''
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost=''
CFILEMODE='644'
dc_use_split_config='true'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
EOF
		;;
	sendmail)
		mkdir -p "$root/etc/mail/m4" &&
			cp "$SM_CF/debian/sendmail.mc" "$root/etc/mail/sendmail.mc" &&
			cp "$SM_TREE/usr/share/sendmail/examples/db/access" "$root/etc/mail/access" &&
			: >"$root/etc/mail/m4/dialup.m4" && : >"$root/etc/mail/m4/provider.m4"
		;;
	opensmtpd) mkdir -p "$root/etc" && cp "$OS_TREE/etc/smtpd.conf" "$root/etc/smtpd.conf" ;;
	postfix)
		mkdir -p "$root/etc/postfix" &&
			cp /usr/share/postfix/main.cf.debian "$root/etc/postfix/main.cf" &&
			cp /usr/share/postfix/master.cf.dist "$root/etc/postfix/master.cf"
		;;
	esac
}

# syntax KIND ROOT [hole]: the MTA's own check of the whole configuration;
# prints what it complained about. m4 warns about the sendmail holes: with
# "hole" a warning is no failure, afterwards it is.
syntax() {
	local root=$2 out
	case $1 in
	exim)
		# update-exim4.conf builds the one file from conf.d (it reads
		# /etc/mailname, absent here: qualify_domain stays empty, valid)
		sh "$EX_TREE/usr/sbin/update-exim4.conf" -d "$root/etc/exim4" -o "$root/exim.conf" \
			2>"$root/update.err" || { cat "$root/update.err"; return 1; }
		out=$("$EX_BIN" -bV -C "$root/exim.conf" 2>&1) || { grep -iv '^\(Exim\|Copyright\|Support\|Lookups\|Authenticators\|Routers\|Transports\|Fixed\|Configure\|Size\|Berkeley\|Library\)' <<<"$out" | head -n 5; return 1; }
		;;
	sendmail)
		# the stock .mc and Debian's m4 files name /usr/share/sendmail and
		# /etc/mail/m4: a build copy points them at the unpacked tree
		sed -e "s|^include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl|&\\ninclude(\`/usr/share/sendmail/cf/debian/autoconf.m4')dnl|" \
			-e "s|/usr/share/sendmail/|$SM_TREE/usr/share/sendmail/|g" \
			-e "s|/etc/mail/m4/|$root/etc/mail/m4/|g" \
			"$root/etc/mail/sendmail.mc" >"$root/build.mc" || return 1
		m4 "$root/build.mc" >"$root/sendmail.cf" 2>"$root/m4.err" || { cat "$root/m4.err"; return 1; }
		[ ! -s "$root/m4.err" ] || [ "${3:-}" = hole ] || { cat "$root/m4.err"; return 1; }
		grep -q '^DS' "$root/sendmail.cf" || { echo "no DS line in the .cf"; return 1; }
		"$SM_TREE/usr/sbin/makemap" -C "$root/sendmail.cf" hash "$root/access" \
			<"$root/etc/mail/access" 2>&1 || return 1
		;;
	opensmtpd) out=$("$OS_BIN" -n -f "$root/etc/smtpd.conf" 2>&1) || { echo "$out"; return 1; } ;;
	postfix)
		out=$(postconf -c "$root/etc/postfix" -n 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "$out"; return 1; }
		postfix -c "$root/etc/postfix" check 2>&1 || return 1
		;;
	esac
}

# --- the holes, in the forms the row's patterns name ------------------------
# hole KIND KEY FILE: give FILE the hole of row KEY (hole:file name); the
# lines that must be gone after the remedy go to $W/gone (one per line).

insert_before() {	# FILE ERE TEXT: TEXT before the first line matching ERE
	local n
	n=$(grep -nE -m 1 -- "$2" "$1" | cut -d: -f1)
	[ -n "$n" ] || { echo "hole: no line matching $2 in $1"; return 1; }
	{ head -n $((n - 1)) "$1"; printf '%s\n' "$3"; tail -n +"$n" "$1"; } >"$1.new" && mv "$1.new" "$1"
}
insert_after() {	# FILE ERE TEXT: TEXT after the first line matching ERE
	local n
	n=$(grep -nE -m 1 -- "$2" "$1" | cut -d: -f1)
	[ -n "$n" ] || { echo "hole: no line matching $2 in $1"; return 1; }
	{ head -n "$n" "$1"; printf '%s\n' "$3"; tail -n +$((n + 1)) "$1"; } >"$1.new" && mv "$1.new" "$1"
}
replace_line() {	# FILE ERE TEXT: the first line matching ERE becomes TEXT
	local n
	n=$(grep -nE -m 1 -- "$2" "$1" | cut -d: -f1)
	[ -n "$n" ] || { echo "hole: no line matching $2 in $1"; return 1; }
	{ head -n $((n - 1)) "$1"; printf '%s\n' "$3"; tail -n +$((n + 1)) "$1"; } >"$1.new" && mv "$1.new" "$1"
}

hole() {
	local f=$3 text
	case $1:$2 in
	exim:plain:01_exim4-config_listmacrosdefs)
		text='hostlist relay_from_hosts = *'
		replace_line "$f" '^hostlist[[:space:]]+relay_from_hosts' "$text" ;;
	exim:sender:30_exim4-config_check_rcpt)
		# Debian's style (the verb alone on its line) and Exim's own
		text='  accept
    senders = *@+local_domains
    control = submission/sender_retain
  accept  senders = x@site.example : y@site.example
          control = submission'
		insert_before "$f" '^[[:space:]]*# Accept if the message comes from one of the hosts' "$text" ;;
	exim:routing:02_exim4-config_options)
		text='percent_hack_domains = site.example : \
    mail.site.example'
		insert_before "$f" '^# percent_hack_domains' "$text" ;;
	exim:routing:30_exim4-config_check_rcpt)
		# the hole is a router or a macro without '%'; the row adds the deny
		text=
		grep -q '^CHECK_RCPT_LOCAL_LOCALPARTS = ' "$f" || { echo "hole: no macro in $f"; return 1; }
		sed -i 's/^CHECK_RCPT_LOCAL_LOCALPARTS = .*/CHECK_RCPT_LOCAL_LOCALPARTS = ^[.] : ^.*[@!\/|]/' "$f"
		: >"$W/gone"; return 0 ;;
	exim:identity:30_exim4-config_check_rcpt)
		text='  accept
    condition = ${if eq{$sender_helo_name}{$primary_hostname}}
    control = submission'
		insert_before "$f" '^[[:space:]]*# Accept if the message comes from one of the hosts' "$text" ;;
	sendmail:plain:sendmail.mc)
		text="FEATURE(\`promiscuous_relay')dnl
FEATURE(\`relay_based_on_MX')dnl
FEATURE(\`relay_entire_domain')dnl"
		insert_before "$f" '^MAILER_DEFINITIONS' "$text" ;;
	sendmail:plain:access)
		text=$(printf 'Connect:10\t\t\t\tRELAY\n192.168\t\tRELAY')
		printf '%s\n' "$text" >>"$f" ;;
	sendmail:sender:sendmail.mc)
		# an m4 call over two lines
		text="FEATURE(\`relay_local_from')dnl
FEATURE(\`relay_mail_from',
	\`domain')dnl"
		insert_before "$f" '^MAILER_DEFINITIONS' "$text" ;;
	sendmail:sender:access)
		text=$(printf 'From:site.example\tRELAY')
		printf '%s\n' "$text" >>"$f" ;;
	sendmail:routing:sendmail.mc)
		text="FEATURE(\`loose_relay_check')dnl"
		insert_before "$f" '^MAILER_DEFINITIONS' "$text" ;;
	sendmail:identity:access)
		text=$(printf 'Connect:mail.site.example\tRELAY')
		printf '%s\n' "$text" >>"$f" ;;
	opensmtpd:plain:smtpd.conf)
		text='match from any for any action "relay"
match from any \
	for domain "victim.example" action "relay"'
		printf '%s\n' "$text" >>"$f" ;;
	opensmtpd:sender:smtpd.conf)
		text='match from any mail-from "@site.example" \
	for any action "relay"'
		printf '%s\n' "$text" >>"$f" ;;
	opensmtpd:routing:smtpd.conf)
		text='match from any for any action "relay"'
		printf '%s\n' "$text" >>"$f" ;;
	opensmtpd:identity:smtpd.conf)
		text='match from any helo "mail.site.example" \
	for any action "relay"'
		printf '%s\n' "$text" >>"$f" ;;
	postfix:plain:main.cf)
		text='mynetworks = 0.0.0.0/0'
		printf '%s\n' "$text" >>"$f" ;;
	postfix:sender:main.cf)
		text='smtpd_relay_restrictions = permit_mynetworks,
    check_sender_access hash:/etc/postfix/relay_senders,
    reject_unauth_destination'
		printf '%s\n' "$text" >>"$f" ;;
	postfix:routing:main.cf)
		text='allow_untrusted_routing = yes'
		printf '%s\n' "$text" >>"$f" ;;
	postfix:identity:main.cf)
		text='smtpd_relay_restrictions = permit_mynetworks,
    check_helo_access hash:/etc/postfix/helo_ok,
    reject_unauth_destination'
		printf '%s\n' "$text" >>"$f" ;;
	postfix:plain:master.cf)
		# -o lines of the smtp service; the second: "-o { name = value }"
		text='    -o mynetworks=0.0.0.0/0
    -o { smtpd_relay_restrictions = permit_mynetworks, permit }'
		insert_after "$f" '^smtp[[:space:]]+inet[[:space:]]' "$text" ;;
	postfix:sender:master.cf)
		text='    -o smtpd_relay_restrictions=permit_mynetworks,check_sender_access,hash:/etc/postfix/relay_senders,reject_unauth_destination'
		insert_after "$f" '^smtp[[:space:]]+inet[[:space:]]' "$text" ;;
	postfix:identity:master.cf)
		text='    -o smtpd_relay_restrictions=permit_mynetworks,check_helo_access,hash:/etc/postfix/helo_ok,reject_unauth_destination'
		insert_after "$f" '^smtp[[:space:]]+inet[[:space:]]' "$text" ;;
	*)
		echo "no hole for row $1 $2 $(basename "$f"): add one here"
		return 1 ;;
	esac || return 1
	printf '%s\n' "$text" >"$W/gone"
}

norm() {	# lines, white space collapsed, blank lines left out, sorted
	sed -E -e 's/^[[:space:]]+//' -e 's/[[:space:]]+$//' -e 's/[[:space:]]+/ /g' -e '/^$/d' | LC_ALL=C sort
}

# check_row KIND STEP_JSON N [unsplit]: unsplit (Exim) applies the step to
# the one exim4.conf.template, the file its "(unsplit: ...)" names.
check_row() {
	local kind=$1 step=$2 n=$3 root file key out rc base added left lost lines
	local -a where
	root=$W/$kind-$n${4:+-$4}
	file=$root$(jq -r '.config_file | split(" ")[0]' <<<"$step")
	key="$(jq -r .hole <<<"$step"):$(basename "$file")"
	where=(--root "$root")
	local tag="$kind row $n ($key${4:+, $4}, $(jq -r .remove_unit <<<"$step"))"
	stock_tree "$kind" "$root" || { tap_fail "$tag: Debian's stock files"; return; }
	if [ "${4:-}" = unsplit ]; then
		file=$root/etc/exim4/exim4.conf.template
		where=()
		sed -i "s/^dc_use_split_config=.*/dc_use_split_config='false'/" \
			"$root/etc/exim4/update-exim4.conf.conf"
	fi
	if [ ! -f "$file" ]; then
		tap_fail "$tag: the file the step names exists on Debian's stock layout ($file)"
		return
	fi
	out=$(hole "$kind" "$key" "$file") && out=$(syntax "$kind" "$root" hole) && rc=0 || rc=$?
	tap_is "$rc" 0 "$tag: with the hole, the stock configuration is valid${out:+: $out}"
	cp "$file" "$root/with-hole"
	out=$(jq -c --argjson s "$step" -n '{remedy: {steps: [$s]}}' |
		python3 "$FIX" --json --strict "${where[@]}" "$kind" "$file" 2>&1) && rc=0 || rc=$?
	tap_diag "$tag: $(tr '\n' ';' <<<"$out")"
	tap_is "$rc" 0 "$tag: every delete pattern matched a statement of $(basename "$file")"
	out=$(syntax "$kind" "$root") && rc=0 || rc=$?
	tap_is "$rc" 0 "$tag: the MTA's syntax check passes after the remedy${out:+: $out}"
	# as multisets of normalised lines: base = the file with the hole,
	# less the hole; the result must be base plus some of the step's lines
	lines=$(jq -r '.lines[]' <<<"$step" | norm)
	base=$(norm <"$root/with-hole" | comm -23 - <(norm <"$W/gone"))
	added=$(comm -13 <(printf '%s\n' "$base") <(norm <"$file") | comm -23 - <(printf '%s\n' "$lines"))
	left=$(comm -12 <(printf '%s\n' "$added") <(norm <"$W/gone"))
	tap_is "$left" "" "$tag: no line of the hole is left (continuation lines included)"
	lost=$(comm -23 <(printf '%s\n' "$base") <(norm <"$file"))
	tap_is "$lost" "" "$tag: no other line of the file was deleted"
	tap_is "$added" "" "$tag: every line added is one of the step's"
}

for kind in postfix sendmail exim opensmtpd; do
	rows=$("$DUMP" --dump "$kind") || tap_bail "$DUMP --dump $kind failed"
	nsteps=$(jq '.remedy.steps | length' <<<"$rows")
	tap_diag "$kind: $nsteps remedy rows"
	for ((i = 0; i < nsteps; i++)); do
		check_row "$kind" "$(jq -c ".remedy.steps[$i]" <<<"$rows")" "$i"
		[ "$kind" = exim ] && check_row "$kind" "$(jq -c ".remedy.steps[$i]" <<<"$rows")" "$i" unsplit
	done
done

# The Exim routing rows: the main-section option is looked for in the main
# section's file, the ACL statement added to the ACL's (item 16).
rows=$("$DUMP" --dump exim)
tap_is "$(jq -r '[.remedy.steps[] | select(.remove | any(test("percent_hack_domains"))) | .config_file | split(" ")[0]] | join(" ")' <<<"$rows")" \
	/etc/exim4/conf.d/main/02_exim4-config_options \
	"Exim: the percent_hack_domains pattern names the main-section file that has the option"

# --- a real Exim: the whole statement goes, control = submission with it -----

# bh FROM_IP SENDER: exim -bh's ACL trace of one RCPT to a local user
bh() {
	printf 'EHLO client.example\r\nMAIL FROM:<%s>\r\nRCPT TO:<root@site.example>\r\nQUIT\r\n' "$2" |
		exim__ns -bh "$1" 2>&1
}
MTA_EXTRA='  accept  senders = *@+local_domains
          control = submission' mta_start exim closed || tap_bail "cannot start Exim (closed + accept senders)"
tap_like "$(bh 127.0.0.2 x@outside.example)" '250 Accepted' "Exim: an outside message to a local user is accepted (control)"
# a forged sender that passes require verify = sender: a real local address
tap_is "$(mta_relays_real 127.0.0.2 --from postmaster@site.example)" relayed \
	"Exim: before the remedy a forged local sender relays"
json=$("$AUDIT" -s 127.0.0.2 -p "$MTA_PORT" -d victim.example -t 10 -f json 127.0.0.1)
tap_is "$(jq -c .remedy.holes <<<"$json")" '["sender"]' "Exim: the audit finds the sender-side hole"
tap_is "$(jq -r '[.remedy.steps[].remove_unit] | unique | join(" ")' <<<"$json")" exim-statement \
	"Exim: the JSON remedy deletes whole statements (remove_unit)"
tap_like "$(jq -r .recommended_fix <<<"$json")" 'delete whole statements, never a single line of one: .*continuation line' \
	"Exim: the text says a whole statement goes, continuation lines included"
tap_like "$(jq -r .recommended_fix <<<"$json")" "such as: delete 'accept senders = \\*@\\+local_domains' with all its continuation lines" \
	"Exim: the example names its continuation lines"
tap_check "Exim: the remedy applied from the JSON report; exim -bV passes and Exim restarts" mta_apply_fix "$json"
tap_diag "acl_check_rcpt now:" "$(sed -n '/^acl_check_rcpt:/,/^acl_check_data:/p' "$MTA_CONF")"
tap_is "$(grep -c 'control[[:space:]]*=[[:space:]]*submission' "$MTA_CONF")" 2 \
	"Exim: the statement went whole: control = submission is left only for relay_from_hosts and authenticated"
out=$(bh 127.0.0.2 x@outside.example)
tap_like "$out" '250 Accepted' "Exim: after the remedy an outside message to a local user is still accepted"
tap_unlike "$out" 'check control = submission' \
	"Exim: exim -bh shows no submission mode for an outside message (require verify = sender did not take it over)"
tap_like "$(bh 127.0.0.1 postmaster@site.example)" 'check control = submission' \
	"Exim: the trusted host is still handled in submission mode (the trace shows it when it happens)"
tap_is "$(mta_relays_real 127.0.0.2 --from postmaster@site.example)" refused \
	"Exim: after the remedy the forged local sender is refused"
tap_is "$(mta_relays_real 127.0.0.1)" relayed "Exim: after the remedy the trusted host still relays"
mta_stop
tap_done
