#!/bin/sh
# scripts/check-layout.sh - the house's floors, checked (README "Layout").
#
#   sh scripts/check-layout.sh [BUILD]
#
# From the sources (always):
#   - every project include resolves (beside the including file, else from
#     the top of the tree: -I.); "relayguard/x.h" is the old layout;
#   - lib/ includes no program header (audit/, milter/, report/);
#   - lib/base includes neither lib/net nor lib/mail; lib/net not lib/mail;
#   - no program includes another program's header;
#   - no include cycle between modules (a module is X.c with X.h).
# From the objects and programs in BUILD (when built; make check builds):
#   - no call cycle between lib/ objects, nor one spanning two folders
#     (cycles inside one program folder are listed, not failed);
#   - relayguard-audit and relayguard-report hold no symbol a milter object
#     defines, and neither holds the other's;
#   - ldd: each program pulls no library the rules below forbid, and every
#     library it names (NEEDED) gives it at least one symbol.
# Exit 0 when all holds, 1 with one line per violation otherwise.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}

python3 - "$BUILD" <<'PY'
import os, re, subprocess, sys

build = sys.argv[1]
bad = []
FLOOR = {"lib/base": 0, "lib/net": 1, "lib/mail": 2}
PROGRAMS = ("audit", "milter", "report")


def tracked(*exts):
    out = subprocess.run(["git", "ls-files", "-c", "-o", "--exclude-standard"],
                         capture_output=True, text=True)
    if out.returncode == 0:
        names = out.stdout.split()
    else:
        names = [os.path.join(d, f)[2:] for d, _, fs in os.walk(".")
                 for f in fs if not d.startswith("./build")]
    return sorted(n for n in names if n.endswith(exts) and os.path.isfile(n)
                  and n.split("/")[0] in ("lib",) + PROGRAMS)


def floor_of(path):
    d = os.path.dirname(path)
    if d in FLOOR:
        return ("lib", FLOOR[d])
    top = path.split("/")[0]
    if top in PROGRAMS:
        return (top, None)
    return ("other", None)


def resolve(src, name):
    for cand in (os.path.join(os.path.dirname(src), name), name):
        cand = os.path.normpath(cand)
        if os.path.isfile(cand):
            return cand
    return None


def module(path):
    return os.path.splitext(path)[0]


INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
graph = {}
for src in tracked(".c", ".h"):
    text = open(src, encoding="utf-8", errors="replace").read()
    kind, rank = floor_of(src)
    for name in INC.findall(text):
        hdr = resolve(src, name)
        if hdr is None:
            hint = " (old layout: name the header's path, e.g. lib/base/util.h)" \
                if name.startswith("relayguard/") else ""
            bad.append(f"{src}: #include \"{name}\" resolves to no file{hint}")
            continue
        hkind, hrank = floor_of(hdr)
        if kind == "lib" and hkind != "lib":
            bad.append(f"{src}: lib/ includes a program's header {hdr}")
        elif kind == "lib" and hrank > rank:
            bad.append(f"{src}: {os.path.dirname(src)} includes the higher "
                       f"floor {os.path.dirname(hdr)} ({hdr})")
        elif kind in PROGRAMS and hkind in PROGRAMS and hkind != kind:
            bad.append(f"{src}: the {kind} program includes {hkind}'s header {hdr}")
        if module(hdr) != module(src):
            graph.setdefault(module(src), set()).add(module(hdr))


def cycles(g):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


for comp in cycles(graph):
    bad.append("include cycle: " + " <-> ".join(comp))


def nm(args, path):
    r = subprocess.run(["nm"] + args + [path], capture_output=True, text=True)
    return r.stdout.splitlines() if r.returncode == 0 else []


objs = []
for top in ("lib",) + PROGRAMS:
    for d, _, fs in os.walk(os.path.join(build, top)):
        objs += [os.path.join(d, f) for f in fs if f.endswith(".o")]
# Objects whose source is gone (a file moved) are stale, not the program's.
objs = sorted(o for o in objs
              if os.path.isfile(os.path.relpath(o, build)[:-2] + ".c"))
def nm_all(args):
    """(object, symbol) for every line of one nm run over all objects."""
    out = []
    if objs:
        for line in nm(["-A"] + args + objs[1:], objs[0]):
            f = line.split()	# "obj.o:ADDR T sym" or "obj.o:  U sym"
            if len(f) >= 2 and ".o:" in f[0]:
                out.append((f[0][:f[0].index(".o:") + 2], f[-1]))
    return out


defined = {}
for o, sym in nm_all(["-g", "--defined-only"]):
    defined.setdefault(sym, set()).add(o)
calls = {}
for o, sym in nm_all(["-u"]):
    for d in defined.get(sym, ()):
        if d != o:
            calls.setdefault(o, set()).add(d)
for comp in cycles(calls):
    rel = [os.path.relpath(o, build) for o in comp]
    folders = {os.path.dirname(r) for r in rel}
    line = " <-> ".join(rel)
    if any(r.startswith("lib/") for r in rel) or len(folders) > 1:
        bad.append("call cycle: " + line)
    else:
        print("check-layout: note: call cycle inside one folder: " + line)

# Symbols of one program that another must not hold.
own = {p: set() for p in PROGRAMS}
for sym, where in defined.items():
    for o in where:
        top = os.path.relpath(o, build).split("/")[0]
        if top in own and sym != "main":
            own[top].add(sym)
FORBID_LIBS = {
    "relayguard-audit": ["libmilter", "libmicrohttpd"],
    "relayguard-report": ["libmilter", "libmicrohttpd", "libspf2", "libldns",
                          "libevent", "libpsl", "libssl"],
    "relayguard-milter": ["libxml2"],
}
for prog, others in (("relayguard-audit", ("milter", "report")),
                     ("relayguard-report", ("milter", "audit")),
                     ("relayguard-milter", ("audit", "report"))):
    path = os.path.join(build, prog)
    if not os.path.isfile(path):
        continue
    held = {l.split()[2] for l in nm(["--defined-only"], path) if len(l.split()) == 3}
    for other in others:
        leak = sorted(held & own[other])
        if leak:
            bad.append(f"{prog} holds {len(leak)} {other} symbol(s): "
                       + " ".join(leak[:8]))
    ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs = {}
    for l in ldd.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", l)
        if m:
            libs[m.group(1)] = m.group(2)
    for soname in libs:
        for f in FORBID_LIBS[prog]:
            if soname.startswith(f + ".") or soname.startswith(f + "-"):
                bad.append(f"{prog} links {soname}, which it does not call")
    imports = {l.split()[-1].split("@")[0]
               for l in nm(["-D", "--undefined-only"], path)}
    rd = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", rd):
        lib = libs.get(soname)
        if lib is None or soname.startswith(("libc.", "libm.", "ld-linux")):
            continue
        gives = {l.split()[-1].split("@")[0]
                 for l in nm(["-D", "--defined-only"], lib)}
        if not imports & gives:
            bad.append(f"{prog} names {soname} (NEEDED) but calls nothing in it")

for b in bad:
    print("check-layout: " + b)
if bad:
    print(f"check-layout: {len(bad)} violation(s) (README \"Layout\")")
    sys.exit(1)
print(f"check-layout: ok ({len(graph)} modules, {len(objs)} objects)")
PY
