#!/usr/bin/env python3
"""validate_xarf.py - validate X-ARF v4 reports against the schemas shipped in
schemas/xarf/v4 (from github.com/xarf/xarf-spec), offline.

    validate_xarf.py REPORT.json...

Every schema's $id (https://xarf.org/schemas/v4/...) is served from the
local copy; nothing is fetched. Formats uuid, email and date-time are
checked here too (jsonschema checks formats only when optional packages are
present). Prints "FILE: path: message" per error; exit 0 valid, 1 invalid.
Works with Debian 12's python3-jsonschema (4.10, RefResolver) and newer
releases (referencing.Registry).
"""
import json
import os
import re
import sys
import uuid
from datetime import datetime

import jsonschema

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas", "xarf", "v4")


def load_schemas():
    store = {}
    for d, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".json"):
                with open(os.path.join(d, f), encoding="utf-8") as fh:
                    s = json.load(fh)
                store[s["$id"]] = s
    return store


def validator_for(store):
    master = store["https://xarf.org/schemas/v4/xarf-v4-master.json"]
    cls = jsonschema.Draft202012Validator
    try:
        from referencing import Registry, Resource
        reg = Registry().with_resources(
            (k, Resource.from_contents(v)) for k, v in store.items())
        return cls(master, registry=reg)
    except ImportError:
        resolver = jsonschema.RefResolver.from_schema(master, store=store)
        return cls(master, resolver=resolver)


def format_errors(doc):
    errs = []
    try:
        if uuid.UUID(doc.get("report_id", "")).version != 4:
            errs.append("report_id: not a UUID v4")
    except (ValueError, AttributeError, TypeError):
        errs.append("report_id: not a UUID")
    ts = doc.get("timestamp", "")
    try:
        if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", ts):
            raise ValueError
        datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except (ValueError, TypeError, AttributeError):
        errs.append("timestamp: not an RFC 3339 date-time: %r" % ts)
    for who in ("reporter", "sender"):
        c = doc.get(who, {}).get("contact", "")
        if not re.match(r"^[^@\s]+@[^@\s]+$", str(c)):
            errs.append("%s.contact: not an e-mail address: %r" % (who, c))
    for key in ("smtp_from", "smtp_to"):
        if key in doc and not re.match(r"^[^@\s]+@[^@\s]+$", str(doc[key])):
            errs.append("%s: not an e-mail address: %r" % (key, doc[key]))
    return errs


def main(argv):
    if len(argv) < 2:
        print("usage: validate_xarf.py REPORT.json...", file=sys.stderr)
        return 2
    v = validator_for(load_schemas())
    bad = 0
    for path in argv[1:]:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        errs = ["/".join(str(p) for p in e.absolute_path) + ": " + e.message
                for e in v.iter_errors(doc)] + format_errors(doc)
        for e in errs:
            print("%s: %s" % (path, e))
        bad += bool(errs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
