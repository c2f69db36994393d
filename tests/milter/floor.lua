-- tests/milter/floor.lua - what relayguard-milter negotiates and what it
-- asks of an ordinary message, over the milter protocol with miltertest(8).
-- Run by tests/integration/298_milter_floor.sh, which starts the milter and
-- sets RG_MILTER_SOCKET and RG_CASE:
--   spf      BounceSensor yes (default), SPF yes, SPFHeader received-spf,
--            every SPF* action "record" (default): no reply at MAIL, DATA
--            continues, a plain message's body is skipped (SMFIR_SKIP) and
--            the header is added at end of message
--   noheader the same with SPFHeader none: accepted at DATA
--            (RG_SPF=fail: the sender's domain is fail.mf.test)
--   noskip   an MTA that offers no SMFIP_SKIP: the body stage then asks
--            for no reply (SMFIP_NR_BODY)
--   spfreject the same with SPFFail reject: MAIL needs a reply again
--   relay    BounceSensor no, SPF no: no header or body stage, no reply
--            at MAIL, and the message accepted at DATA (no end of message)
-- Prints one TAP line per check.

local sock = os.getenv("RG_MILTER_SOCKET")
local case = os.getenv("RG_CASE")
if sock == nil or case == nil then
	error "RG_MILTER_SOCKET and RG_CASE must be set"
end

local n = 0
local function check(ok, desc)
	n = n + 1
	mt.echo((ok and "ok " or "not ok ") .. n .. " - " .. desc)
end

-- every protocol step an MTA of protocol 6 may offer, SMFIP_SKIP optional
local function all_steps(skip)
	local s = SMFIP_NOCONNECT + SMFIP_NOHELO + SMFIP_NOMAIL + SMFIP_NORCPT +
	    SMFIP_NOBODY + SMFIP_NOHDRS + SMFIP_NOEOH + SMFIP_NR_HDR +
	    SMFIP_NOUNKNOWN + SMFIP_NODATA + SMFIP_RCPT_REJ + SMFIP_NR_CONN +
	    SMFIP_NR_HELO + SMFIP_NR_MAIL + SMFIP_NR_RCPT + SMFIP_NR_DATA +
	    SMFIP_NR_UNKN + SMFIP_NR_EOH + SMFIP_NR_BODY
	if skip then
		s = s + SMFIP_SKIP
	end
	return s
end

local conn = mt.connect(sock, 20, 0.1)
if conn == nil then
	error("cannot connect to " .. sock)
end
-- (miltertest 1.0 takes the steps before the actions, unlike its manual)
local err = mt.negotiate(conn, 6, all_steps(case ~= "noskip"), nil)
if err ~= nil then
	error("mt.negotiate() failed: " .. err)
end

-- option name, wanted
local relay = case == "relay"
local mail_reply = case == "spfreject"	-- only an SPF reject refuses at MAIL
local want = {
	{"SMFIP_NR_CONN", true}, {"SMFIP_NR_HELO", true},
	{"SMFIP_NR_MAIL", not mail_reply},
	{"SMFIP_NR_RCPT", false},	-- the relay decision
	{"SMFIP_NR_DATA", false},	-- accept at DATA is a reply
	{"SMFIP_NODATA", false},	-- ... so DATA is kept
	{"SMFIP_NR_EOH", true}, {"SMFIP_NR_UNKN", true},
	{"SMFIP_NOEOH", true}, {"SMFIP_NOUNKNOWN", true},
	{"SMFIP_NOHDRS", relay}, {"SMFIP_NOBODY", relay},	-- DSNs are read
	{"SMFIP_RCPT_REJ", true},
}
if not relay then
	table.insert(want, {"SMFIP_NR_HDR", true})
	table.insert(want, {"SMFIP_SKIP", case ~= "noskip"})
	table.insert(want, {"SMFIP_NR_BODY", case == "noskip"})
end
for _, w in ipairs(want) do
	local got = mt.test_option(conn, _G[w[1]])
	check(got == w[2], case .. ": " .. w[1] .. " negotiated: " .. tostring(w[2]))
end

if mt.conninfo(conn, "client.mf.test", "127.0.0.2") ~= nil then
	error "mt.conninfo() failed"
end
if mt.helo(conn, "helo.mf.test") ~= nil then
	error "mt.helo() failed"
end
mt.macro(conn, SMFIC_MAIL, "i", "4FloorQ1")
if mt.mailfrom(conn, "<user@" .. (os.getenv("RG_SPF") or "pass") ..
    ".mf.test>") ~= nil then
	error "mt.mailfrom() failed"
end
if mail_reply then
	check(mt.getreply(conn) == SMFIR_CONTINUE, case .. ": MAIL FROM continues")
end
if mt.rcptto(conn, "<postmaster@mail.site.example>") ~= nil then
	error "mt.rcptto() failed"
end
check(mt.getreply(conn) == SMFIR_CONTINUE, case .. ": local RCPT continues")
if case == "noskip" or case == "spfreject" then
	mt.disconnect(conn)
	return
end
if mt.data(conn) ~= nil then
	error "mt.data() failed"
end
if case == "noheader" or relay then
	check(mt.getreply(conn) == SMFIR_ACCEPT,
	    case .. ": nothing to add: accepted at DATA")
	mt.disconnect(conn)
	return
end
check(mt.getreply(conn) == SMFIR_CONTINUE,
    case .. ": an SPF header to add: DATA continues")
if mt.header(conn, "Subject", "floor") ~= nil then
	error "mt.header() failed"
end
if mt.bodystring(conn, "plain text, not a DSN\r\n") ~= nil then
	error "mt.bodystring() failed"
end
check(mt.getreply(conn) == SMFIR_SKIP, case .. ": a plain body is skipped")
if mt.eom(conn) ~= nil then
	error "mt.eom() failed"
end
check(mt.eom_check(conn, MT_HDRINSERT, "Received-SPF"),
    case .. ": Received-SPF added at end of message")
mt.disconnect(conn)
