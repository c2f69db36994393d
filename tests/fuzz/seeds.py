#!/usr/bin/env python3
"""tests/fuzz/seeds.py - write the fuzz seed corpora from the unit-test
tables: every C string literal (adjacent literals joined) of the unit tests
that exercise a target becomes one seed file in tests/fuzz/corpus/<target>/,
named by its SHA-1 (so reruns are idempotent). Bounce samples
(tests/unit/dsn/*.eml) and the sample config are seeds as they are.

    python3 tests/fuzz/seeds.py
"""
import glob, hashlib, os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
TARGETS = {
    'fuzz_notify': [],   # seeds: EVENT_LOGS below
    'fuzz_address': ['tests/unit/test_address.c', 'tests/unit/test_trick.c', 'tests/unit/test_relay.c'],
    'fuzz_reply': ['tests/unit/test_reply.c'],
    'fuzz_dsn': ['tests/unit/test_dsn.c'],
    'fuzz_config': ['tests/unit/test_config.c', 'tests/unit/test_bounce.c'],
    'fuzz_relay': ['tests/unit/test_relay.c', 'tests/unit/test_trick.c'],
    'fuzz_netmatch': ['tests/unit/test_netmatch.c'],
    'fuzz_spf': ['tests/unit/test_spf.c'],
    'fuzz_textclean': ['tests/unit/test_textclean.c'],
    'fuzz_import': ['tests/unit/test_mtaimport.c'],
}
# event-log lines (JSON) written out in integration tests: each file's lines
# as one log and each line alone
EVENT_LOGS = {
    'fuzz_notify': ['tests/integration/510_report.sh', 'tests/integration/520_notify.sh',
                    'tests/integration/310_bounce_storm_backscatter.sh'],
}
FILES = {
    'fuzz_dsn': ['tests/unit/dsn/*.eml'],
    'fuzz_config': ['conf/relayguard.conf'],
}
LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"((?:\s*"(?:[^"\\\n]|\\.)*")*)', re.S)
ESC = {'n': b'\n', 't': b'\t', 'r': b'\r', '0': b'\0', '\\': b'\\', '"': b'"',
       "'": b"'", 'a': b'\a', 'b': b'\b', 'f': b'\f', 'v': b'\v', '?': b'?'}


def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c != '\\':
            out += c.encode()
            i += 1
            continue
        n = s[i + 1]
        if n == 'x':
            m = re.match(r'[0-9a-fA-F]{1,2}', s[i + 2:])
            out.append(int(m.group(0), 16))
            i += 2 + len(m.group(0))
        elif n in '01234567':
            m = re.match(r'[0-7]{1,3}', s[i + 1:])
            out.append(int(m.group(0), 8) & 0xff)
            i += 1 + len(m.group(0))
        else:
            out += ESC.get(n, n.encode())
            i += 2
    return bytes(out)


def literals(path):
    text = open(os.path.join(ROOT, path), encoding='utf-8', errors='replace').read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'^\s*#\s*include.*$', '', text, flags=re.M)
    for m in LIT.finditer(text):
        parts = [m.group(1)] + re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(2) or '')
        yield b''.join(unescape(p) for p in parts)


def main():
    total = 0
    for target, srcs in TARGETS.items():
        d = os.path.join(ROOT, 'tests/fuzz/corpus', target)
        os.makedirs(d, exist_ok=True)
        seeds = set()
        for src in srcs:
            seeds.update(s for s in literals(src) if s)
        for src in EVENT_LOGS.get(target, []):
            lines = [l.encode() + b'\n' for l in
                     open(os.path.join(ROOT, src), encoding='utf-8').read().splitlines()
                     if l.startswith('{"time"')]
            seeds.update(lines)
            if lines:
                seeds.add(b''.join(lines))
        for pat in FILES.get(target, []):
            for f in glob.glob(os.path.join(ROOT, pat)):
                seeds.add(open(f, 'rb').read())
        if target == 'fuzz_relay':   # byte 0: client, byte 1: config
            seeds = {bytes([c, a]) + s for s in seeds for c, a in ((1, 0), (0x81, 1), (4, 0))}
        if target == 'fuzz_notify':  # byte 0: Withhold bits, 0x10 --network
            seeds = {bytes([b]) + s for s in seeds for b in (0x00, 0x0f, 0x1f)}
        if target in ('fuzz_dsn', 'fuzz_textclean'):  # byte 0: a size
            seeds = {b'\x3f' + s for s in seeds}
        for s in seeds:
            with open(os.path.join(d, hashlib.sha1(s).hexdigest()), 'wb') as f:
                f.write(s)
        print(f'{target}: {len(seeds)} seeds')
        total += len(seeds)
    return 0


if __name__ == '__main__':
    sys.exit(main())
