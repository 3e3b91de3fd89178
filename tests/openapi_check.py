#!/usr/bin/python3
"""Holds every recorded exchange of the end-to-end tests against
schema/openapi.yaml.

tests/http.c appends one JSON line per request and response to the file
LEDGER_TEST_RECORD names (the Makefile's check target sets it to
$BUILD/responses.jsonl).  Each exchange is matched to its path template and
method, and checked: the status is declared for the operation (or
`default`), the Content-Type is one of its media types, every required
response header is present, and a JSON body validates against the declared
schema (Draft 2020-12, with the $refs of the document and of schema/*.json).
Text and binary bodies (tiles, export streams, the checkpoint) are checked
on status, media type and headers only.  An exchange on no documented
operation is held against the document's `x-general-responses`: the
answers any request may get (unknown route, method not allowed, ...).

Prints one line per (operation, status) ("ok ..." or "FAIL ..." with the
first mismatching example) and ends with "N passed, N failed".
"""
import collections
import glob
import json
import os
import re
import sys
import urllib.parse

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schema_check import FORMATS, ROOT, SCHEMA_DIR, Validator  # noqa: E402

DOC_URI = "https://ledger.example.org/schema/openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load_doc():
    """The document, and a function making a validator of a schema that
    may $ref into the document and into schema/*.json."""
    with open(os.path.join(SCHEMA_DIR, "openapi.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    store = {DOC_URI: doc}
    for path in glob.glob(os.path.join(SCHEMA_DIR, "*.json")):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        uri = schema.get("$id") or DOC_URI.rsplit("/", 1)[0] + "/" + os.path.basename(path)
        store[uri] = schema
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
    except ImportError:	# jsonschema before 4.18 resolves by itself
        def validator(schema):
            resolver = jsonschema.RefResolver(DOC_URI, doc, store=store)
            return Validator(schema, resolver=resolver, format_checker=FORMATS)
        return doc, validator
    registry = Registry().with_resources(
        (uri, Resource.from_contents(c, default_specification=DRAFT202012))
        for uri, c in store.items())

    def validator(schema):
        return Validator(schema, registry=registry, format_checker=FORMATS)
    return doc, validator


def esc(part):
    return str(part).replace("~", "~0").replace("/", "~1")


def at(doc, pointer):
    node = doc
    for part in pointer.split("/")[1:]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def follow(doc, pointer):
    """The pointer reached by following local $refs from pointer."""
    node = at(doc, pointer)
    while isinstance(node, dict) and node.get("$ref", "").startswith("#/"):
        pointer = node["$ref"][1:]
        node = at(doc, pointer)
    return pointer


def deref(doc, node):
    while isinstance(node, dict) and node.get("$ref", "").startswith("#/"):
        node = at(doc, node["$ref"][1:])
    return node


def template_regex(doc, template, op_params):
    """A path template as a regular expression.  A parameter whose schema
    has a pattern matches that pattern (tile indexes span segments); a
    string one that ends the template matches the rest of the path, slashes
    included, as the server's prefix routes do ({id}, {user}, {ref}); any
    other matches one segment."""
    patterns = {}
    for prm in op_params:
        prm = deref(doc, prm)
        if prm.get("in") == "path":
            schema = deref(doc, prm.get("schema", {}))
            p = schema.get("pattern")
            if p:
                patterns[prm["name"]] = p.lstrip("^").rstrip("$")
            elif schema.get("type") == "string" and \
                    template.endswith("{%s}" % prm["name"]):
                patterns[prm["name"]] = ".+"
    out, pos = "", 0
    for m in re.finditer(r"\{([^}]+)\}", template):
        out += re.escape(template[pos:m.start()])
        out += "(?:%s)" % patterns.get(m.group(1), "[^/]+")
        pos = m.end()
    return re.compile(out + re.escape(template[pos:]) + r"\Z")


def operations(doc):
    ops = []
    for template, item in doc["paths"].items():
        common = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                op = item[method]
                regex = template_regex(doc, template, common + op.get("parameters", []))
                ops.append((template, method, op, regex))
    # literal segments before parameters: /v1/events/batch is not {seq}
    ops.sort(key=lambda o: -len(re.sub(r"\{[^}]+\}", "", o[0])))
    return ops


def header(exchange, name):
    for n, v in exchange["headers"]:
        if n.lower() == name.lower():
            return v
    return None


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def check_response(doc, validator, pointer, exchange):
    """None when the exchange fits the response at pointer, else why not."""
    pointer = follow(doc, pointer)
    response = at(doc, pointer)
    for name, h in (response.get("headers") or {}).items():
        h = deref(doc, h)
        if h.get("required") and header(exchange, name) is None:
            return "no %s header" % name
    content = response.get("content")
    ctype = header(exchange, "Content-Type")
    if not content:
        if exchange.get("body"):
            return "a body (%s) where none is declared" % ctype
        return None
    # a declared media type with parameters (text/plain; version=0.0.4)
    # matches on the whole value, others on the type alone
    declared = {k.lower().replace(" ", ""): k for k in content}
    got = (ctype or "").lower().replace(" ", "")
    key = declared.get(got) or declared.get(media_type(ctype))
    if key is None:
        return "Content-Type %r is not one of %s" % (ctype, ", ".join(content))
    if exchange["method"] == "HEAD" or "schema" not in content[key] or media_type(ctype) != "application/json":
        return None
    if "body" not in exchange:
        return "a JSON body that is not UTF-8"
    try:
        body = json.loads(exchange["body"])
    except ValueError as e:
        return "the body is not JSON: %s" % e
    ref = "%s#%s/content/%s/schema" % (DOC_URI, pointer, esc(key))
    v = validator({"$ref": ref})
    errors = sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        return "%s: %s" % (where, e.message[:200])
    return None


def check_query(doc, op, exchange):
    """None when the query parameters agree with the operation's: an
    accepted request uses only declared ones, and a declared one is never
    refused as unknown."""
    declared = {deref(doc, prm).get("name") for prm in op.get("parameters", [])
                if deref(doc, prm).get("in") == "query"}
    query = exchange["target"].partition("?")[2]
    names = {n for n, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)}
    status = exchange["status"]
    if 200 <= status < 300 and names - declared:
        return "accepted undeclared parameter %s" % ", ".join(sorted(names - declared))
    if status == 400 and exchange.get("body"):
        try:
            error = json.loads(exchange["body"]).get("error") or {}
        except (ValueError, AttributeError):
            return None
        if error.get("code") == "unknown_parameter" and error.get("field") in declared:
            return "refused declared parameter %s" % error["field"]
    return None


def main():
    record = os.environ.get("LEDGER_TEST_RECORD") or os.path.join(
        ROOT, os.environ.get("BUILD", "build"), "responses.jsonl")
    doc, validator = load_doc()
    ops = operations(doc)
    general = doc.get("x-general-responses") or {}
    # (class) -> [count, first failure]
    classes = collections.OrderedDict()
    n = 0
    with open(record, encoding="utf-8") as f:
        for line in f:
            n += 1
            ex = json.loads(line)
            # routes match the percent-decoded path, as the server's do
            path = urllib.parse.unquote(ex["target"].split("?")[0])
            method = ex["method"].lower()
            if method == "head":	# answered like GET, without a body
                method = "get"
            status = str(ex["status"])
            on_path = [o for o in ops if o[3].match(path)]
            op = next((o for o in on_path if o[1] == method), None)
            if op is not None:
                name = "%s %s %s" % (method.upper(), op[0], status)
                responses = op[2].get("responses", {})
                base = "/paths/%s/%s/responses/" % (esc(op[0]), method)
                response = base + status if status in responses else \
                    base + "default" if "default" in responses else \
                    "/x-general-responses/" + status if status in general else None
            else:
                name = "%s %s %s" % (method.upper(),
                                     on_path[0][0] if on_path else "(no route)", status)
                response = "/x-general-responses/" + status if status in general else None
            why = None
            if response is None:
                why = "status %s is not declared" % status
            else:
                why = check_response(doc, validator, response, ex)
                if why is None and op is not None:
                    why = check_query(doc, op[2], ex)
            c = classes.setdefault(name, [0, None])
            c[0] += 1
            if why and c[1] is None:
                c[1] = "%s %s: %s" % (ex["method"], ex["target"][:120], why)
    passed = failed = 0
    for name, (count, why) in sorted(classes.items()):
        if why:
            failed += 1
            print("FAIL %s: %s" % (name, why))
        else:
            passed += 1
            print("ok %s (%d)" % (name, count))
    if n == 0:
        failed += 1
        print("FAIL no exchange recorded in %s" % record)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
