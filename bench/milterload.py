#!/usr/bin/env python3
"""bench/milterload.py - relay decisions per second and their latency at
the MTA's side of the milter protocol (version 6), for bench/milter.sh's
shared-state case. Each session is one milter connection as Postfix's
smtpd opens it: option negotiation, CONNECT from one of --clients
addresses in 198.51.100.0/24, HELO, MAIL, then a refused relay attempt
(--remote) and a local recipient (--local); every RCPT's reply is timed.
Prints one line:

  decisions N seconds S per_second R p50_ms A p99_ms B max_ms C refused D

  milterload.py --socket inet:PORT@127.0.0.1 [--sessions 2000]
                [--clients 200] [--seconds 60]

Bounded by --sessions and --seconds. Loopback only. The wire format is
libmilter's (mfdef.h): a 4-byte length in network order, a command byte,
the data.
"""
import argparse
import socket
import struct
import sys
import time

NR_CONN, NR_HELO, NR_MAIL = 0x1000, 0x2000, 0x4000

p = argparse.ArgumentParser()
p.add_argument("--socket", required=True)
p.add_argument("--sessions", type=int, default=2000)
p.add_argument("--clients", type=int, default=200)
p.add_argument("--seconds", type=float, default=60)
p.add_argument("--remote", default="<victim@elsewhere.example>")
p.add_argument("--local", default="<postmaster@site.example>")
a = p.parse_args()


def open_sock(spec):
    if not spec.startswith("inet:") or not spec.endswith("@127.0.0.1"):
        sys.exit("milterload.py: --socket must be inet:PORT@127.0.0.1")
    s = socket.create_connection(("127.0.0.1", int(spec[5:].split("@")[0])), 10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Session:
    def __init__(self, spec):
        self.s = open_sock(spec)
        self.buf = b""

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("milter closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def reply(self):
        (n,) = struct.unpack(">I", self.recv(4))
        body = self.recv(n)
        return body[:1], body[1:]

    def close(self):
        try:
            self.send(b"Q")
        finally:
            self.s.close()


def z(text):
    return text.encode() + b"\0"


def session(i, lat):
    m = Session(a.socket)
    m.send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
    cmd, data = m.reply()
    if cmd != b"O":
        raise RuntimeError("no option negotiation reply")
    steps = struct.unpack(">III", data[:12])[2]
    addr = "198.51.100.%d" % (1 + i % a.clients)
    refused = 0
    for c, payload, nr in ((b"C", z("client.example") + b"4" +
                            struct.pack(">H", 40000 + i % 20000) + z(addr), NR_CONN),
                           (b"H", z("client.example"), NR_HELO),
                           (b"M", z("<sender@other.example>"), NR_MAIL)):
        m.send(c, payload)
        if not steps & nr and m.reply()[0] not in (b"c",):
            m.close()	# boxed or refused before RCPT: no decision here
            return 0
    for rcpt in (a.remote, a.local):
        t0 = time.perf_counter()
        m.send(b"R", z(rcpt))
        r = m.reply()[0]
        lat.append(time.perf_counter() - t0)
        refused += r in (b"r", b"y")
    m.send(b"A")
    m.close()
    return refused


def main():
    lat, refused = [], 0
    t0 = time.perf_counter()
    for i in range(a.sessions):
        if time.perf_counter() - t0 > a.seconds:
            break
        refused += session(i, lat)
    secs = time.perf_counter() - t0
    if not lat:
        sys.exit("milterload.py: no decisions")
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3
    print("decisions %d seconds %.3f per_second %.0f p50_ms %.3f p99_ms %.3f "
          "max_ms %.3f refused %d" % (len(lat), secs, len(lat) / secs, pick(0.5),
                                      pick(0.99), lat[-1] * 1e3, refused))


main()
