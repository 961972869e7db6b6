#!/usr/bin/python3
"""check_contract.py: hold docs/openapi.yaml to the server.

usage: check_contract.py --spec docs/openapi.yaml --router fcgi/router.c
                         --errors lib/err.c [--log REPLIES.jsonl]

1. Every API route of the router's table (all but the pages' handlers,
   bj_page_*) is described, with its method, and the description has no
   route the router lacks.
2. The description's ErrorCode enum is exactly the codes of lib/err.c.
3. Every reply the end-to-end suites received (the harness appends them
   to the log named by BJ_API_LOG) is one the description allows: its
   status is listed for the route and method, a JSON body validates against
   that response's schema, a body of another type is one the response
   declares, and the headers the response requires are there. A path no
   route matches must be answered 404 NOT_FOUND; a route asked with a method
   it does not take, 405 METHOD_NOT_ALLOWED.

Exit 0 when all hold, 1 otherwise (each mismatch is printed).
Needs Debian's python3-yaml and python3-jsonschema.
"""
import argparse
import json
import re
import sys
from urllib.parse import urlsplit

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_SHOWN = 40


def router_routes(path):
    """(METHOD, pattern) of every API route in fcgi/router.c's table."""
    text = open(path, encoding="utf-8").read()
    table = text[text.index("routes[] = {"):]
    table = table[:table.index("};")]
    routes = set()
    for method, pattern, handler in re.findall(
            r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*(\w+)\s*\}', table):
        if not handler.startswith("bj_page_"):
            routes.add((method, pattern))
    if not routes:
        sys.exit("check_contract: no routes found in %s" % path)
    return routes


def error_codes(path):
    """The codes bj_err_code() in lib/err.c returns."""
    text = open(path, encoding="utf-8").read()
    body = text[text.index("bj_err_code(enum bj_err e)"):]
    body = body[:body.index("\n}\n")]
    return set(re.findall(r'return "([A-Z_]+)";', body))


class Spec:
    """The description, its path templates as regular expressions, and $ref resolution."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver("", self.doc)
        self.templates = []
        for tpl in self.doc["paths"]:
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tpl)) + "$"
            self.templates.append((tpl.count("{"), tpl, re.compile(rx)))
        self.templates.sort()	# literal segments before parameters

    def routes(self):
        return {(m.upper(), tpl) for tpl, item in self.doc["paths"].items()
                for m in item if m in METHODS}

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def template(self, path):
        for _, tpl, rx in self.templates:
            if rx.match(path):
                return tpl
        return None

    def validate(self, schema, instance):
        """None when instance validates, else the first error's text."""
        validator = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        err = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if err is None:
            return None
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        return "%s: %s" % (where, err.message[:300])


def header_names(block):
    """Lower-cased names of the headers of the last response in a raw header block."""
    names = set()
    for line in (block or "").split("\r\n"):
        if line.startswith("HTTP/"):
            names = set()
        elif ":" in line:
            names.add(line.split(":", 1)[0].strip().lower())
    return names


def api_path(url):
    """The path from /v1/, /healthz or /metrics on (the base path stripped), or None."""
    path = urlsplit(url).path
    m = re.search(r"(/v1/.*|/v1|/healthz|/metrics)$", path)
    return m.group(1) if m else None


def check_reply(spec, rec):
    """A list of mismatches of one logged reply (empty when it conforms)."""
    method, status = rec["method"], rec["status"]
    path = api_path(rec["url"])
    if path is None:
        return []
    ctype = (rec.get("content_type") or "").split(";")[0].strip().lower()
    tpl = spec.template(path)
    item = spec.doc["paths"].get(tpl, {}) if tpl else {}
    op = item.get(method.lower()) or (item.get("get") if method == "HEAD" else None)
    if op is None:
        # the router's own answers for what it has no route for
        want = 405 if tpl else 404
        schema = {"$ref": "#/components/schemas/%s" %
                  ("MethodNotAllowedError" if tpl else "NotFoundError")}
        if status != want:
            return ["%s %s: %d, but no route takes it (expected %d)" % (method, path, status, want)]
        if method == "HEAD":
            return []
        return body_errors(spec, rec, ctype, schema, "%s %s %d" % (method, path, status))
    responses = op.get("responses", {})
    resp = responses.get(str(status)) or responses.get("default")
    label = "%s %s %d" % (method, tpl, status)
    if resp is None:
        return ["%s: status not described (body %.200s)" % (label, rec.get("body", ""))]
    resp = spec.deref(resp)
    problems = []
    have = header_names(rec.get("headers"))
    for name, h in (resp.get("headers") or {}).items():
        if spec.deref(h).get("required") and name.lower() not in have:
            problems.append("%s: required header %s missing" % (label, name))
    content = resp.get("content") or {}
    if method == "HEAD" or status == 304:
        return problems
    if not content:
        if rec.get("body"):
            problems.append("%s: a body where none is described" % label)
        return problems
    media = content.get(ctype)
    if media is None:
        problems.append("%s: Content-Type %s, described: %s (body %.200s)" %
                        (label, ctype or "none", ", ".join(content), rec.get("body", "")))
        return problems
    if ctype == "application/json":
        problems += body_errors(spec, rec, ctype, media.get("schema", {}), label)
    return problems


def body_errors(spec, rec, ctype, schema, label):
    """Mismatches of a JSON body against schema."""
    if ctype != "application/json":
        return ["%s: Content-Type %s, not application/json" % (label, ctype or "none")]
    try:
        body = json.loads(rec.get("body", ""))
    except ValueError as e:
        return ["%s: the body is not JSON (%s): %.200s" % (label, e, rec.get("body", ""))]
    why = spec.validate(schema, body)
    if why is None:
        return []
    return ["%s: %s\n    body: %.400s" % (label, why, rec.get("body", ""))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--router", required=True)
    ap.add_argument("--errors", required=True)
    ap.add_argument("--log", help="the replies logged by the harness (BJ_API_LOG)")
    args = ap.parse_args()

    spec = Spec(args.spec)
    jsonschema.Draft202012Validator.check_schema(
        {"$defs": spec.doc["components"]["schemas"]})
    failures = []

    served, described = router_routes(args.router), spec.routes()
    for method, route in sorted(served - described):
        failures.append("route %s %s is in fcgi/router.c but not in %s" % (method, route, args.spec))
    for method, route in sorted(described - served):
        failures.append("route %s %s is in %s but not in fcgi/router.c" % (method, route, args.spec))

    codes = error_codes(args.errors)
    enum = set(spec.doc["components"]["schemas"]["ErrorCode"]["enum"])
    for code in sorted(codes - enum):
        failures.append("error code %s of lib/err.c is not in ErrorCode" % code)
    for code in sorted(enum - codes):
        failures.append("ErrorCode %s is not a code of lib/err.c" % code)

    checked, seen = 0, set()
    if args.log:
        try:
            f = open(args.log, encoding="utf-8", errors="replace")
        except OSError as e:
            failures.append("no replies to check (%s): run the end-to-end suites first" % e)
            f = []
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError:
                failures.append("%s:%d: not a JSON line" % (args.log, n))
                continue
            problems = check_reply(spec, rec)
            path = api_path(rec["url"])
            if path is not None:
                checked += 1
                seen.add((rec["method"], spec.template(path), rec["status"]))
            failures += problems
        if checked == 0:
            failures.append("no replies to check in %s" % args.log)

    print("contract: %d routes, %d error codes, %d replies (%d distinct route/status pairs)"
          " checked against %s" % (len(served), len(codes), checked, len(seen), args.spec))
    unique = list(dict.fromkeys(failures))
    for msg in unique[:MAX_SHOWN]:
        print("FAIL " + msg)
    if len(unique) > MAX_SHOWN:
        print("... and %d more" % (len(unique) - MAX_SHOWN))
    return 1 if unique else 0


if __name__ == "__main__":
    sys.exit(main())
