#!/usr/bin/env python3
"""smtp_sink.py PORT DIR: a real SMTP server (aiosmtpd) for the notifier tests.

Each message is saved as DIR/mail-N.eml, and a summary parsed with Python's
email package is appended to DIR/mail.jsonl: envelope, every header name,
the decoded Subject, and the text and HTML parts. Recipients named reject@…
get a 550 and busy@… a 451.
"""
import email
import email.header
import email.policy
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller

PORT = int(sys.argv[1])
DIR = sys.argv[2]
LOCK = threading.Lock()
COUNT = [0]


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """reject@… is refused for good, busy@… for now; everyone else is accepted."""
        if address.startswith("reject@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = html = None
        for part in msg.walk():
            if part.get_content_type() == "text/plain" and text is None:
                text = part.get_content()
            elif part.get_content_type() == "text/html" and html is None:
                html = part.get_content()
        with LOCK:
            COUNT[0] += 1
            with open(os.path.join(DIR, "mail-%d.eml" % COUNT[0]), "wb") as f:
                f.write(raw)
            rec = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "header_names": [k for k in msg.keys()],
                "subject": str(msg.get("Subject", "")),
                "to": str(msg.get("To", "")),
                "message_id": str(msg.get("Message-ID", "")),
                "date": str(msg.get("Date", "")),
                "defects": len(msg.defects),
                "text": text,
                "html": html,
            }
            with open(os.path.join(DIR, "mail.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")
        return "250 OK"


controller = Controller(Sink(), hostname="127.0.0.1", port=PORT)
controller.start()
signal.signal(signal.SIGTERM, lambda *a: (controller.stop(), os._exit(0)))
signal.pause()
