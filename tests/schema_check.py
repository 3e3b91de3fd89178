#!/usr/bin/python3
"""Checks the JSON Schemas and the OpenAPI document under schema/.

  * schema/*.json are valid JSON Schema 2020-12 documents;
  * every tests/schema/valid-*.json event passes schema/event.schema.json
    and every tests/schema/invalid-*.json event fails it;
  * tests/schema/entry-example.json passes schema/entry.schema.json (and a
    few altered copies of it fail);
  * schema/openapi.yaml parses, is OpenAPI 3.1, has every path of the REST
    API, its local references resolve and its schemas are valid 2020-12.

Prints one line per check ("ok ..." or "FAIL ...") and ends with
"N passed, N failed"; exits 1 when anything failed.  Needs python3-jsonschema;
the OpenAPI part needs python3-yaml and is skipped without it.
"""
import copy
import glob
import json
import os
import re
import sys

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_DIR = os.path.join(ROOT, "schema")
SAMPLE_DIR = os.path.join(ROOT, "tests", "schema")

passed = 0
failed = 0


def report(ok, what, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok " + what)
    else:
        failed += 1
        print("FAIL " + what + (": " + why if why else ""))


def ecma_pattern(pattern):
    """JSON Schema patterns are ECMA-262 regular expressions, where `$`
    (without the m flag) matches only at the very end.  Python's `$` also
    matches before a final newline, so "police\\n" would pass
    ^[a-z0-9-]{1,32}$.  Rewrite each unescaped `$` outside a character
    class as \\Z."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
        elif c == "$":
            c = r"\Z"
        out.append(c)
        i += 1
    return "".join(out)


def pattern_keyword(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and \
            not re.search(ecma_pattern(pattern), instance):
        yield ValidationError("%r does not match %r" % (instance, pattern))


# RFC 3339 §5.6 date-time, the general form (the schemas' patterns are
# stricter: uppercase T and Z only, no leap second).
RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):"
                     r"([0-9]{2})(\.[0-9]+)?([Zz]|[+-]([0-9]{2}):([0-9]{2}))\Z")


def is_date_time(instance):
    if not isinstance(instance, str):
        return True
    m = RFC3339.match(instance)
    if m is None:
        return False
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    mdays = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not 1 <= mo <= 12 or not 1 <= d <= mdays[mo - 1]:
        return False
    if h > 23 or mi > 59 or s > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time")(is_date_time)
Validator = jsonschema.validators.extend(Draft202012Validator, {"pattern": pattern_keyword})


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rel(path):
    return os.path.relpath(path, ROOT)


def first_error(validator, instance):
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = "/".join(str(p) for p in e.absolute_path) or "(top)"
    return "%s: %s" % (where, e.message[:200])


def check_schemas():
    schemas = {}
    for path in sorted(glob.glob(os.path.join(SCHEMA_DIR, "*.json"))):
        try:
            schema = load_json(path)
            Draft202012Validator.check_schema(schema)
            # the patterns must compile as regular expressions, too
            for p in find_key(schema, "pattern"):
                re.compile(ecma_pattern(p))
            schemas[os.path.basename(path)] = schema
            report(True, "%s is a valid JSON Schema 2020-12" % rel(path))
        except (ValueError, jsonschema.SchemaError, re.error) as e:
            report(False, "%s is a valid JSON Schema 2020-12" % rel(path), str(e)[:300])
    return schemas


def find_key(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from find_key(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from find_key(v, key)


def check_samples(event_schema):
    v = Validator(event_schema, format_checker=FORMATS)
    valid = sorted(glob.glob(os.path.join(SAMPLE_DIR, "valid-*.json")))
    invalid = sorted(glob.glob(os.path.join(SAMPLE_DIR, "invalid-*.json")))
    report(len(valid) >= 12, "at least 12 valid samples (%d)" % len(valid))
    report(len(invalid) >= 30, "at least 30 invalid samples (%d)" % len(invalid))
    for path in valid:
        try:
            err = first_error(v, load_json(path))
        except ValueError as e:
            err = "not JSON: %s" % e
        report(err is None, "%s passes event.schema.json" % rel(path), err or "")
    for path in invalid:
        try:
            err = first_error(v, load_json(path))
        except ValueError as e:
            report(False, "%s fails event.schema.json" % rel(path), "not JSON: %s" % e)
            continue
        report(err is not None, "%s fails event.schema.json (%s)" % (rel(path), err),
               "accepted")


def check_entry(entry_schema):
    v = Validator(entry_schema, format_checker=FORMATS)
    path = os.path.join(SAMPLE_DIR, "entry-example.json")
    try:
        entry = load_json(path)
    except (OSError, ValueError) as e:
        report(False, "%s passes entry.schema.json" % rel(path), str(e))
        return
    err = first_error(v, entry)
    report(err is None, "%s passes entry.schema.json" % rel(path), err or "")

    def altered(name, change):
        e = copy.deepcopy(entry)
        change(e)
        err = first_error(v, e)
        report(err is not None, "entry with %s fails entry.schema.json" % name, "accepted")

    altered("v 4", lambda e: e.update(v=4))
    altered("v 2 with sealed", lambda e: e.update(sealed={"purpose": e["prev"]}))
    altered("a field both sealed and in clear",
            lambda e: e.update(v=3, purpose="x", sealed={"purpose": e["prev"]}))
    altered("sealed naming another field",
            lambda e: e.update(v=3, sealed={"type": e["prev"]}))
    altered("v 0", lambda e: e.update(v=0))
    altered("v 1 with a salt", lambda e: e.update(v=1))
    altered("negative seq", lambda e: e.update(seq=-1))
    altered("received_at without microseconds",
            lambda e: e.update(received_at=e["received_at"][:19] + "Z"))
    altered("received_at with an offset",
            lambda e: e.update(received_at=e["received_at"][:26] + "+00:00"))
    altered("prev unpadded", lambda e: e.update(prev=e["prev"].rstrip("=")))
    altered("prev in base64url", lambda e: e.update(prev="_" * 43 + "="))
    altered("no salt", lambda e: e.pop("salt"))
    altered("a salt of 15 bytes", lambda e: e.update(salt="A" * 20))
    altered("a salt of 17 bytes", lambda e: e.update(salt="A" * 23 + "="))
    altered("a salt of 32 bytes", lambda e: e.update(salt=e["prev"]))
    altered("salt unpadded", lambda e: e.update(salt=e["salt"].rstrip("=")))
    altered("salt in base64url", lambda e: e.update(salt="_" * 22 + "=="))
    altered("salt with non-zero trailing bits", lambda e: e.update(salt="A" * 21 + "B=="))
    altered("a clear subject id", lambda e: e.update(subjects=["NL-BSN-123456782"]))
    altered("a padded subject token", lambda e: e.update(subjects=["A" * 43 + "="]))
    altered("no submitter", lambda e: e.pop("submitter"))
    altered("an unknown field", lambda e: e.update(extra=1))
    # the first format version, written before salts existed, still reads
    v1 = copy.deepcopy(entry)
    v1.pop("salt")
    v1["v"] = 1
    err = first_error(v, v1)
    report(err is None, "version 1 entry without salt passes entry.schema.json", err or "")
    # the server's own types need no object, recipients or purpose
    audit = {k: entry[k] for k in ("v", "seq", "received_at", "submitter", "prev",
                                   "salt", "occurred_at")}
    audit.update(type="audit", actor={"org": "board", "user": "supervisor-1"},
                 details={"query": "subject"})
    err = first_error(v, audit)
    report(err is None, "audit entry without object passes entry.schema.json", err or "")
    audit["type"] = "share"
    err = first_error(v, audit)
    report(err is not None, "share entry without object fails entry.schema.json",
           "accepted")
    # a posted event is not an entry
    sample = os.path.join(SAMPLE_DIR, "valid-share-minimal.json")
    if os.path.exists(sample):
        err = first_error(v, load_json(sample))
        report(err is not None, "an event without server fields fails entry.schema.json",
               "accepted")


API_PATHS = [
    ("post", "/v1/events"), ("get", "/v1/events"), ("post", "/v1/events/batch"),
    ("get", "/v1/events/{seq}"), ("get", "/checkpoint"),
    ("get", "/v1/proof/inclusion"), ("get", "/v1/proof/consistency"),
    ("get", "/tile/{L}/{N}"), ("get", "/tile/{L}/{N}.p/{W}"),
    ("get", "/tile/entries/{N}"), ("get", "/tile/entries/{N}.p/{W}"),
    ("get", "/v1/provenance/subjects/{id}"), ("get", "/v1/provenance/actors/{org}/{user}"),
    ("get", "/v1/provenance/objects/{ref}"), ("get", "/v1/export"),
    ("get", "/healthz"), ("get", "/metrics"),
]


def resolve_pointer(doc, pointer):
    node = doc
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def check_openapi():
    path = os.path.join(SCHEMA_DIR, "openapi.yaml")
    try:
        import yaml
    except ImportError:
        print("skip %s: python3-yaml is not installed" % rel(path))
        return
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        ok = isinstance(doc, dict)
        report(ok, "%s parses" % rel(path), "not a mapping")
        if not ok:
            return
    except (OSError, yaml.YAMLError) as e:
        report(False, "%s parses" % rel(path), str(e)[:300])
        return
    report(str(doc.get("openapi", "")).startswith("3.1."), "%s is OpenAPI 3.1" % rel(path),
           "openapi: %r" % doc.get("openapi"))
    paths = doc.get("paths") or {}
    missing = [m.upper() + " " + p for m, p in API_PATHS
               if not isinstance(paths.get(p), dict) or m not in paths[p]]
    report(not missing, "%s has every endpoint" % rel(path), ", ".join(missing))
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    kinds = {s.get("type") + ("/" + s["scheme"] if "scheme" in s else "")
             for s in schemes.values()}
    report({"http/bearer", "mutualTLS"} <= kinds,
           "%s declares bearer and mutual TLS security" % rel(path), str(sorted(kinds)))
    bad = []
    for ref in find_key(doc, "$ref"):
        if ref.startswith("#"):
            try:
                resolve_pointer(doc, ref[1:])
            except (KeyError, TypeError):
                bad.append(ref)
        elif not os.path.exists(os.path.join(SCHEMA_DIR, ref.split("#")[0])):
            bad.append(ref)
    report(not bad, "%s references resolve" % rel(path), ", ".join(sorted(set(bad))))
    bad = []
    for name, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            bad.append("%s: %s" % (name, e.message[:100]))
    report(not bad, "%s component schemas are valid 2020-12" % rel(path), "; ".join(bad))
    undeclared = []
    for p, item in paths.items():
        for m, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            names = set(re.findall(r"\{([^}]+)\}", p))
            declared = set()
            for prm in op.get("parameters", []):
                if "$ref" in prm:
                    prm = resolve_pointer(doc, prm["$ref"][1:])
                if prm.get("in") == "path":
                    declared.add(prm["name"])
            if names != declared:
                undeclared.append("%s %s" % (m.upper(), p))
    report(not undeclared, "%s path parameters are declared" % rel(path),
           ", ".join(undeclared))


def main():
    schemas = check_schemas()
    if "event.schema.json" in schemas:
        check_samples(schemas["event.schema.json"])
    else:
        report(False, "schema/event.schema.json loads")
    if "entry.schema.json" in schemas:
        check_entry(schemas["entry.schema.json"])
    else:
        report(False, "schema/entry.schema.json loads")
    check_openapi()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
