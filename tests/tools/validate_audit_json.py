#!/usr/bin/python3
"""validate_audit_json.py - check relayguard-audit output against schemas/audit.

usage: validate_audit_json.py json|jsonl FILE

json:  FILE is ONE JSON document (json.load), valid against json.schema.json.
jsonl: every line of FILE is one result object, valid against jsonl.schema.json.
Prints one line per result ("ok TARGET VERDICT") or the first error; exit 0
when everything is valid, 1 otherwise. Uses Debian's python3-jsonschema
(4.10: RefResolver resolves the relative $ref to result.schema.json).
"""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "schemas", "audit")


def validator(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        schema = json.load(f)
    with open(os.path.join(SCHEMAS, "result.schema.json")) as f:
        result = json.load(f)
    store = {result["$id"]: result, schema["$id"]: schema}
    resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema, store=store)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def report(doc):
    for r in doc if isinstance(doc, list) else [doc]:
        print("ok", r["target"], r["verdict"])


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("json", "jsonl"):
        sys.exit("usage: validate_audit_json.py json|jsonl FILE")
    kind, path = sys.argv[1], sys.argv[2]
    v = validator(kind + ".schema.json")
    with open(path) as f:
        docs = [json.load(f)] if kind == "json" else [json.loads(l) for l in f if l.strip()]
    for doc in docs:
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            print("invalid: %s at %s" % (e.message, "/".join(map(str, e.absolute_path))))
            return 1
        report(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
