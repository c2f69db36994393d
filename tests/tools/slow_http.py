#!/usr/bin/env python3
"""tests/tools/slow_http.py - slow HTTP clients (slowloris) against a
loopback port: N connections, each sends a request line and then one
header line every INTERVAL seconds, never the blank line that ends the
headers. A connection the server closes is opened again (a persistent
attacker), until DURATION seconds have passed. Prints "ready" once all N
are connected, and at the end "reconnects=R" (how many connections the
server closed on them).

  slow_http.py --port 9894 [--host 127.0.0.1] [--clients 20]
               [--interval 3] [--duration 30]
"""
import argparse
import socket
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--port", type=int, required=True)
p.add_argument("--clients", type=int, default=20)
p.add_argument("--interval", type=float, default=3.0)
p.add_argument("--duration", type=float, default=30.0)
a = p.parse_args()
if not a.host.startswith("127.") and a.host != "::1":
    sys.exit("slow_http.py: loopback only")


def connect():
    s = socket.create_connection((a.host, a.port), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    s.setblocking(False)
    return s


def closed(s):
    """Did the server close s (end of file, a reset, or an answer)?"""
    try:
        return s.recv(4096) is not None
    except BlockingIOError:
        return False
    except OSError:
        return True


socks = [connect() for _ in range(a.clients)]
print("ready", flush=True)
end = time.monotonic() + a.duration
line = 0
reconnects = 0
while time.monotonic() < end:
    time.sleep(min(a.interval, max(0.0, end - time.monotonic())))
    line += 1
    for i, s in enumerate(socks):
        if s is not None and not closed(s):
            try:
                s.sendall(b"X-Slow-%d: %d\r\n" % (line, i))
                continue
            except OSError:
                pass
        if s is not None:
            s.close()
        reconnects += 1
        try:
            socks[i] = connect()
        except OSError:
            socks[i] = None
for s in socks:
    if s is not None:
        s.close()
print("reconnects=%d" % reconnects, flush=True)
