#!/usr/bin/env python3
"""tests/lib/import_probe.py - helpers of tests/integration/280_milter_import_trust.sh.

    import_probe.py candidates "NET, NET" PROBE...
        the client addresses to ask the real MTA about for the imported
        TrustedNetworks: each network's first and last address, and every
        PROBE address inside one of them (one a line; a PROBE that is no
        address is skipped).
    import_probe.py xclient PORT NAME ADDR...
        for each ADDR one SMTP session to a real Postfix on 127.0.0.1:PORT
        that lets 127.0.0.1 use XCLIENT: XCLIENT ADDR=ADDR NAME=NAME, then
        MAIL FROM:<a@outside.example> and RCPT TO:<x@victim.example>; prints
        "ADDR CODE" with the RCPT reply code (Postfix's relay decision for a
        client at ADDR named NAME). Sessions are sequential, 10 s timeout each.
"""
import ipaddress
import socket
import sys


def address(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def candidates(nets, probes):
    seen = []
    named = [a for a in map(address, probes) if a is not None]
    for text in nets.replace(',', ' ').split():
        net = ipaddress.ip_network(text, strict=True)
        for a in [net.network_address, net.broadcast_address] + named:
            if a in net and a not in seen:
                seen.append(a)
    for a in seen:
        print(a)


def reply(f):
    while True:
        line = f.readline()
        if not line:
            return '000 connection closed'
        if line[3:4] != '-':
            return line.strip()


def xclient(port, name, addrs):
    for a in addrs:
        with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
            f = s.makefile('r', encoding='latin-1', newline='\r\n')

            def cmd(c):
                s.sendall((c + '\r\n').encode())
                return reply(f)
            reply(f)
            cmd('EHLO probe.example')
            x = 'IPV6:' + a if ':' in a else a
            r = cmd('XCLIENT ADDR=%s NAME=%s' % (x, name))
            if not r.startswith('220'):
                print(a, 'XCLIENT-refused', flush=True)
                continue
            cmd('EHLO probe.example')
            cmd('MAIL FROM:<a@outside.example>')
            print(a, cmd('RCPT TO:<x@victim.example>')[:3], flush=True)
            cmd('QUIT')


if __name__ == '__main__':
    if sys.argv[1] == 'candidates':
        candidates(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == 'xclient':
        xclient(int(sys.argv[2]), sys.argv[3], sys.argv[4:])
    else:
        sys.exit('usage: import_probe.py candidates|xclient ...')
