#!/usr/bin/python3
# validate_html.py: exit 0 when each FILE (or stdin) parses as HTML5 with no
# parse error at all (html5lib in strict mode, the WHATWG parsing
# algorithm); otherwise print the first error and exit 1.
import sys

import html5lib


def check(name, data):
    parser = html5lib.HTMLParser(strict=True)
    try:
        parser.parse(data)
    except html5lib.html5parser.ParseError as e:
        print("%s: not valid HTML5: %s" % (name, e), file=sys.stderr)
        return False
    if not data.lstrip().lower().startswith(b"<!doctype html>"):
        print("%s: no <!DOCTYPE html>" % name, file=sys.stderr)
        return False
    return True


def main():
    files = sys.argv[1:] or ["-"]
    ok = True
    for f in files:
        data = sys.stdin.buffer.read() if f == "-" else open(f, "rb").read()
        ok = check(f, data) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
