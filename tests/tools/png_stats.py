#!/usr/bin/env python3
"""png_stats.py - decode a PNG (8-bit RGB/RGBA/grey, non-interlaced; what
headless Chromium writes) with zlib only and print one JSON line:
{"width", "height", "nonwhite": fraction of pixels not near white,
 "colors": distinct colours (capped), "pixels_sha256": hash of the pixels}.
Used to tell a rendered page from a blank one, and real glyphs from tofu
(two strings of the same CJK characters in a different order render to
different pixels only when the font has them).

    png_stats.py FILE.png [--crop X Y W H]
"""
import hashlib
import json
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 6):
        raise ValueError("unsupported PNG (depth %d, colour type %d)" % (depth, ctype))
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif f == 4:
                line[x] = (line[x] + paeth(a, b, c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main(argv):
    w, h, bpp, rows = decode(argv[1])
    x0, y0, cw, ch = 0, 0, w, h
    if len(argv) >= 7 and argv[2] == "--crop":
        x0, y0, cw, ch = (int(v) for v in argv[3:7])
    sha = hashlib.sha256()
    nonwhite, colors, total = 0, set(), 0
    for y in range(y0, min(h, y0 + ch)):
        row = rows[y][x0 * bpp:(x0 + cw) * bpp]
        sha.update(row)
        for x in range(0, len(row), bpp):
            px = row[x:x + 3] if bpp >= 3 else row[x:x + 1] * 3
            total += 1
            if min(px) < 240:
                nonwhite += 1
            if len(colors) < 4096:
                colors.add(bytes(px))
    print(json.dumps({"width": w, "height": h, "nonwhite": nonwhite / max(total, 1),
                      "colors": len(colors), "pixels_sha256": sha.hexdigest()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
