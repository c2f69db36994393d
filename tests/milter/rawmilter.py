#!/usr/bin/env python3
"""tests/milter/rawmilter.py - a minimal MTA side of the milter protocol
(version 6), to send what neither Postfix nor miltertest(8) can be told to
send: a CONNECT with address family 'L' (unix) or 'U' (unknown), or no
CONNECT at all. One session: option negotiation, [CONNECT], HELO, MAIL,
then each RCPT; prints one line per RCPT:

  RCPT <addr> continue | reject | tempfail | accept | reply 554 5.7.1 ...

  rawmilter.py --socket unix:/path|inet:PORT@127.0.0.1 --family U|L|4|6|none
               [--host localhost] [--addr 127.0.0.1|/path] [--auth alice]
               --rcpt '<a@b.example>' [--rcpt ...] [--timeout 10]

The wire format is libmilter's (mfdef.h): a 4-byte length in network order,
a command byte, the data. Loopback and unix sockets only.
"""
import argparse
import socket
import struct
import sys

p = argparse.ArgumentParser()
p.add_argument("--socket", required=True)
p.add_argument("--family", default="4", choices=["U", "L", "4", "6", "none"])
p.add_argument("--host", default="localhost")
p.add_argument("--addr", default="")
p.add_argument("--port", type=int, default=0)
p.add_argument("--helo", default="client.example")
p.add_argument("--myhostname", default="mail.site.example", help="macro j ('' : none)")
p.add_argument("--sender", default="<sender@other.example>")
p.add_argument("--auth")
p.add_argument("--rcpt", action="append", required=True)
p.add_argument("--timeout", type=float, default=10)
a = p.parse_args()

NR_CONN, NR_HELO, NR_MAIL, NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000


def connect(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        s.connect(spec.split(":", 1)[1])
        return s
    if spec.startswith("inet:"):
        port, host = spec[5:].split("@", 1)
        if not host.startswith("127."):
            sys.exit("rawmilter.py: loopback only")
        return socket.create_connection((host, int(port)), timeout=a.timeout)
    sys.exit("rawmilter.py: bad --socket " + spec)


s = connect(a.socket)


def send(cmd, data=b""):
    s.sendall(struct.pack("!I", len(data) + 1) + cmd + data)


def recv_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("milter closed the connection")
        buf += chunk
    return buf


def reply():
    """The next reply that is not SMFIR_PROGRESS: (code byte, data)."""
    while True:
        (n,) = struct.unpack("!I", recv_exact(4))
        pkt = recv_exact(n)
        if pkt[:1] != b"p":
            return pkt[:1], pkt[1:]


# Arguments may carry any bytes (a HELO with CR LF, a recipient with raw
# 8-bit bytes): argv's undecodable bytes come back exactly (surrogateescape),
# and replies are printed as the bytes the milter sent.
sys.stdout.reconfigure(errors="surrogateescape")


def z(text):
    return text.encode("utf-8", "surrogateescape") + b"\0"


def describe(code, data):
    names = {b"c": "continue", b"r": "reject", b"t": "tempfail",
             b"a": "accept", b"d": "discard", b"s": "skip"}
    if code == b"y":
        return "reply " + data.rstrip(b"\0").decode("utf-8", "surrogateescape")
    return names.get(code, "unknown-reply-" + code.decode(errors="replace"))


send(b"O", struct.pack("!III", 6, 0x1FF, 0x1FFFFF))
code, data = reply()
if code != b"O" or len(data) < 12:
    sys.exit("rawmilter.py: bad option negotiation reply %r" % code)
_, _, proto = struct.unpack("!III", data[:12])

if a.family != "none":
    conn = z(a.host) + a.family.encode()
    if a.family != "U":
        conn += struct.pack("!H", a.port) + z(a.addr)
    if a.myhostname:
        send(b"D", b"C" + z("j") + z(a.myhostname))
    send(b"C", conn)
    if not proto & NR_CONN:
        reply()
send(b"H", z(a.helo))
if not proto & NR_HELO:
    reply()
macros = b"M" + z("i") + z("RAW0001")
if a.auth:
    macros += z("{auth_authen}") + z(a.auth)
send(b"D", macros)
send(b"M", z(a.sender))
if not proto & NR_MAIL:
    code, data = reply()
    if code != b"c":
        print("MAIL %s %s" % (a.sender, describe(code, data)))
        sys.exit(0)
for r in a.rcpt:
    send(b"D", b"R" + z("{rcpt_addr}") + z(r.strip("<>")) + z("{rcpt_mailer}") + z("smtp"))
    send(b"R", z(r))
    if proto & NR_RCPT:
        print("RCPT %s noreply" % r)
        continue
    print("RCPT %s %s" % (r, describe(*reply())))
send(b"Q")
s.close()
