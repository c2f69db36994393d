# shellcheck shell=bash disable=SC2034,SC2153
# tests/lib/postfix_holes.sh - the real private Postfix (tests/lib/postfix.sh)
# with the relay holes real configurations have beyond mynetworks = 0.0.0.0/0,
# for tests/integration/630_remedy_postfix_holes.sh and bench/mta_matrix.sh.
# Every profile is the "closed" one (mynetworks = 127.0.0.1/32: 127.0.0.1 is
# the trusted host, 127.0.0.2 the outsider) plus one mistake:
#
#   sender         smtpd_relay_restrictions = permit_mynetworks,
#                  check_sender_access hash:relay_senders (site.example OK),
#                  reject_unauth_destination
#   sender_legacy  the same permit in smtpd_recipient_restrictions before
#                  reject_unauth_destination, smtpd_relay_restrictions empty
#                  (the pre-2.10 layout)
#   helo           check_helo_access hash:helo_ok (mail.site.example OK)
#                  before reject_unauth_destination
#   wide           mynetworks = 127.0.0.0/8: the outsider 127.0.0.2 is in it
#   style          mynetworks unset, mynetworks_style = subnet: the same
#                  127.0.0.0/8, from the loopback interface
#   master_sender  main.cf right; the smtp service of master.cf overrides it:
#                  -o smtpd_relay_restrictions=...check_sender_access...
#   master_wide    main.cf right; master.cf: -o mynetworks=127.0.0.0/8
#
#   pfh_boot            pf_start closed, its main.cf and master.cf kept
#                       aside for pfh_hole (one instance for every profile:
#                       a Postfix start costs seconds on a loaded machine)
#   pfh_hole PROFILE    the instance's configuration back to "closed", then
#                       the hole of PROFILE, postfix reload; sets
#       PFH_HOLE     the hole class the audit must find (plain, sender,
#                    identity)
#       PFH_EXPLOIT  swaks options the real message uses to go through the
#                    hole (empty: a plain message from the outsider relays)
#       PFH_SETTING  ERE: the setting the JSON remedy must name
#       PFH_SHOWS    ERE: a line the remedy's check command prints while the
#                    hole is there and no more once the remedy is applied
#       PFH_WHAT     the mistake in words (the benchmark matrix)
#   pfh_start PROFILE   pfh_boot, then pfh_hole PROFILE
#   Status 1 (with "# " diagnostics) when Postfix did not start.
# Needs tests/lib/postfix.sh sourced.

PFH_PROFILES="sender sender_legacy helo wide style master_sender master_wide"

pfh__maps() {	# DIR: the access maps of the profiles, built with postmap
	printf 'compatibility_level = 3.6\n' >"$1/main.cf"
	printf 'site.example OK\n' >"$1/relay_senders"
	printf 'mail.site.example OK\n' >"$1/helo_ok"
	postmap -c "$1" "hash:$1/relay_senders" "hash:$1/helo_ok"
}

pfh_boot() {
	PFH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rg-pfholes.XXXXXX") || return 1
	chmod 755 "$PFH_DIR"
	rg_cleanup_add "rm -rf '$PFH_DIR'"
	pfh__maps "$PFH_DIR" || { rg_diag "pfh_boot: postmap failed"; return 1; }
	pf_start closed || return 1
	cp "$PF_CONF/main.cf" "$PFH_DIR/main.cf.closed" &&
		cp "$PF_CONF/master.cf" "$PFH_DIR/master.cf.closed"
}

pfh_start() {
	pfh_boot && pfh_hole "$1"
}

pfh_hole() {
	local profile=$1 maps=$PFH_DIR main='' master=''
	PFH_EXPLOIT='' PFH_HOLE=plain
	case $profile in
	sender)
		main="smtpd_relay_restrictions = permit_mynetworks,
    check_sender_access hash:$maps/relay_senders, reject_unauth_destination"
		PFH_HOLE=sender PFH_EXPLOIT="--from x@site.example" PFH_SETTING=check_sender_access
		PFH_SHOWS='check_sender_access'
		PFH_WHAT="\`check_sender_access\` site.example OK in \`smtpd_relay_restrictions\`" ;;
	sender_legacy)
		main="smtpd_relay_restrictions =
smtpd_recipient_restrictions = permit_mynetworks,
    check_sender_access hash:$maps/relay_senders, reject_unauth_destination"
		PFH_HOLE=sender PFH_EXPLOIT="--from x@site.example" PFH_SETTING=check_sender_access
		PFH_SHOWS='^smtpd_relay_restrictions =[[:space:]]*$'
		PFH_WHAT="the same in \`smtpd_recipient_restrictions\`, \`smtpd_relay_restrictions =\`" ;;
	helo)
		main="smtpd_relay_restrictions = permit_mynetworks,
    check_helo_access hash:$maps/helo_ok, reject_unauth_destination"
		PFH_HOLE=identity PFH_EXPLOIT="--helo mail.site.example" PFH_SETTING=check_helo_access
		PFH_SHOWS='check_helo_access'
		PFH_WHAT="\`check_helo_access\` mail.site.example OK" ;;
	wide)
		main="mynetworks = 127.0.0.0/8"
		PFH_SETTING=mynetworks PFH_SHOWS='^mynetworks = 127\.0\.0\.0/8'
		PFH_WHAT="\`mynetworks = 127.0.0.0/8\` (one host meant)" ;;
	style)
		PFH_SETTING=mynetworks PFH_SHOWS='^mynetworks = 127\.0\.0\.0/8'
		PFH_WHAT="\`mynetworks\` unset, \`mynetworks_style = subnet\`" ;;
	master_sender)
		master="smtpd_relay_restrictions=permit_mynetworks,check_sender_access,hash:$maps/relay_senders,reject_unauth_destination"
		PFH_HOLE=sender PFH_EXPLOIT="--from x@site.example" PFH_SETTING='master\.cf'
		PFH_SHOWS='/smtpd_relay_restrictions = .*check_sender_access'
		PFH_WHAT="master.cf \`-o smtpd_relay_restrictions=...check_sender_access...\`" ;;
	master_wide)
		master="mynetworks=127.0.0.0/8"
		PFH_SETTING='master\.cf' PFH_SHOWS='/mynetworks = 127\.0\.0\.0/8'
		PFH_WHAT="master.cf \`-o mynetworks=127.0.0.0/8\`" ;;
	*)
		rg_diag "pfh_hole: PROFILE must be one of $PFH_PROFILES, not '$profile'"
		return 1 ;;
	esac
	cp "$maps/main.cf.closed" "$PF_CONF/main.cf" &&
		cp "$maps/master.cf.closed" "$PF_CONF/master.cf" || return 1
	pf__cool_main_cf
	PF_MAIN_EXTRA=$main pf__apply_main_extra || return 1
	if [ "$profile" = style ]; then
		postconf -c "$PF_CONF" -X mynetworks &&
			postconf -c "$PF_CONF" -e "mynetworks_style = subnet" || return 1
	fi
	# the smtp service is "127.0.0.1:PORT inet" here
	if [ -n "$master" ]; then
		postconf -c "$PF_CONF" -P "127.0.0.1:$PF_PORT/inet/$master" || return 1
	fi
	pf__cool_main_cf
	pf_reload
}

# pfh_real FROM_IP [SWAKS_ARGS...]: one real message from FROM_IP to
# victim@victim.example: relayed (the next hop got it), refused (in the SMTP
# session) or accepted-not-relayed.
pfh_real() {
	local from=$1 before
	shift
	before=$(pf_sink_count)
	pf_swaks --local-interface "$from" --from x@outside.example --to victim@victim.example \
		--header "Subject: relay truth" "$@" >"$PF_DIR/swaks.last" 2>&1 || {
		echo refused
		return 0
	}
	pf_flush >/dev/null 2>&1 || true
	if pf_wait_sink_count $((before + 1)) 10; then echo relayed; else echo accepted-not-relayed; fi
}

# pfh_local_ok FROM_IP: a message from FROM_IP to postmaster@site.example
# lands in root's maildir.
pfh_local_ok() {
	local before
	before=$(pf_mailbox_count root)
	pf_swaks --local-interface "$1" --from x@outside.example --to postmaster@site.example \
		--header "Subject: local" >/dev/null 2>&1 || return 1
	pf_wait_mailbox_count root $((before + 1)) 10
}

# pfh_run_check CHECK: the commands of a remedy step's "check" (up to
# "; then"), run against this instance (postconf and postfix get -c); prints
# what they print.
pfh_run_check() {
	PF_CONF=$PF_CONF bash -c 'postconf() { command postconf -c "$PF_CONF" "$@"; }
		postfix() { command postfix -c "$PF_CONF" "$@"; }
		'"${1%%; then *}" 2>&1
}
