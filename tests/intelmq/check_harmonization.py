#!/usr/bin/env python3
"""check_harmonization.py - check IntelMQ-style JSON against IntelMQ's
harmonization field definitions (tests/intelmq/harmonization.json, taken
from certtools/intelmq; see its "_source").

    check_harmonization.py [--harmonization FILE] FILE...

Each FILE holds JSON objects, one per line (JSON lines) or one document
(an object or an array of objects). Every key must be an IntelMQ event
field (or "extra.*"), every value must be of that field's type (String,
LowercaseString, Integer, IPAddress, DateTime with a UTC offset, FQDN,
ClassificationTaxonomy/Type from IntelMQ's allowed values, ...), within
its length and regex. Prints one line per problem, "FILE:N: key: what";
exit 0 when all objects conform, 1 otherwise, 2 on unreadable input.
Shared by the auditor's --fields intelmq tests and the notifier's.
"""
import base64
import ipaddress
import json
import os
import re
import sys
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))


def is_datetime(v):
    if not isinstance(v, str) or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", v):
        return False
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return d.tzinfo is not None  # IntelMQ times carry their zone


def is_ip(v):
    try:
        ipaddress.ip_address(v)
        return isinstance(v, str)
    except ValueError:
        return False


def is_net(v):
    try:
        ipaddress.ip_network(v, strict=False)
        return isinstance(v, str) and "/" in v
    except ValueError:
        return False


def is_fqdn(v):
    return (isinstance(v, str) and v == v.lower() and not v.endswith(".")
            and not is_ip(v) and re.match(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$", v) is not None)


def is_b64(v):
    try:
        base64.b64decode(v, validate=True)
        return isinstance(v, str)
    except Exception:
        return False


def type_ok(typ, v, h):
    s = isinstance(v, str)
    checks = {
        "String": lambda: s and v != "",
        "LowercaseString": lambda: s and v == v.lower() and v != "",
        "UppercaseString": lambda: s and v == v.upper() and v != "",
        "Integer": lambda: isinstance(v, int) and not isinstance(v, bool),
        "ASN": lambda: isinstance(v, int) and not isinstance(v, bool) and 0 < v < 4294967296,
        "Float": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
        "Accuracy": lambda: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100,
        "Boolean": lambda: isinstance(v, bool),
        "IPAddress": lambda: is_ip(v),
        "IPNetwork": lambda: is_net(v),
        "DateTime": lambda: is_datetime(v),
        "FQDN": lambda: is_fqdn(v),
        "URL": lambda: s and re.match(r"^[a-z][a-z0-9+.-]*://", v) is not None,
        "Base64": lambda: is_b64(v),
        "JSON": lambda: s,
        "JSONDict": lambda: isinstance(v, dict) or (s and isinstance(json.loads(v), dict)),
        "ClassificationTaxonomy": lambda: v in h["ClassificationTaxonomy"],
        "ClassificationType": lambda: v in h["ClassificationType"],
        "TLP": lambda: s and v.upper() in ("WHITE", "GREEN", "AMBER", "RED", "CLEAR", "AMBER+STRICT"),
        "Registry": lambda: s and v.upper() in ("AFRINIC", "APNIC", "ARIN", "LACNIC", "RIPE"),
    }
    f = checks.get(typ)
    return f is not None and f()


def check(obj, h, where):
    problems = []
    if not isinstance(obj, dict):
        return ["%s: not a JSON object" % where]
    fields = h["event"]
    for key, v in obj.items():
        if key.startswith("extra."):
            continue  # extra is a JSONDict; its keys are free
        spec = fields.get(key)
        if spec is None:
            problems.append("%s: %s: not an IntelMQ event field" % (where, key))
            continue
        if not type_ok(spec["type"], v, h):
            problems.append("%s: %s: %r is not of type %s" % (where, key, v, spec["type"]))
            continue
        if "length" in spec and isinstance(v, str) and len(v) > spec["length"]:
            problems.append("%s: %s: longer than %d" % (where, key, spec["length"]))
        if "regex" in spec and isinstance(v, str) and not re.search(spec["regex"], v):
            problems.append("%s: %s: %r does not match %s" % (where, key, v, spec["regex"]))
        if "iregex" in spec and isinstance(v, str) and not re.search(spec["iregex"], v, re.I):
            problems.append("%s: %s: %r does not match %s" % (where, key, v, spec["iregex"]))
    return problems


def objects(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        doc = json.loads(text)
        items = doc if isinstance(doc, list) else [doc]
        return [(i + 1, o) for i, o in enumerate(items)]
    except json.JSONDecodeError:
        pass
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            out.append((n, json.loads(line)))
    return out


def main(argv):
    args = argv[1:]
    hpath = os.path.join(HERE, "harmonization.json")
    if args[:1] == ["--harmonization"]:
        hpath, args = args[1], args[2:]
    if not args:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(hpath, encoding="utf-8") as f:
        h = json.load(f)
    problems, count = [], 0
    for path in args:
        try:
            objs = objects(path)
        except (OSError, ValueError) as e:
            print("%s: %s" % (path, e), file=sys.stderr)
            return 2
        for n, o in objs:
            count += 1
            problems += check(o, h, "%s:%d" % (path, n))
    for p in problems:
        print(p)
    if count == 0:
        print("no JSON objects to check")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
