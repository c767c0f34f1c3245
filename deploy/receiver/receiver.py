"""Demo webhook receiver: prints each delivery, checks its Standard Webhooks
signature when BYLINE_WEBHOOK_RECEIVER_SECRET is set, and notes repeats of a
webhook-id (at-least-once delivery means a receiver must de-duplicate).
RECEIVER_STATUS (default 200) lets you try byline's retry/dead-letter paths.
Demo only: it keeps the seen ids in memory forever."""
import base64
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("BYLINE_WEBHOOK_RECEIVER_SECRET", "")
STATUS = int(os.environ.get("RECEIVER_STATUS", "200"))
PORT = int(os.environ.get("RECEIVER_PORT", "8000"))
seen = set()


def signature_ok(msg_id, timestamp, body, header):
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # The header may carry several space-separated "v1,<sig>" entries.
    return any(hmac.compare_digest(s.partition(",")[2], expected) for s in header.split())


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        msg_id = self.headers.get("webhook-id", "")
        verdict, status = "unsigned", STATUS
        if SECRET:
            ok = signature_ok(msg_id, self.headers.get("webhook-timestamp", ""), body,
                              self.headers.get("webhook-signature", ""))
            verdict, status = ("signature ok", STATUS) if ok else ("SIGNATURE BAD, rejected", 401)
        if status >= 300:  # not accepted, so not seen: a retry is not a duplicate
            print("%s %s id=%s %s -> %d" % (self.command, self.path, msg_id, verdict, status),
                  flush=True)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        repeat = " (duplicate, ignored)" if msg_id in seen else ""
        seen.add(msg_id)
        try:
            record = json.loads(body)
            summary = "%s | %s | entities: %s" % (
                record.get("published", {}).get("date"), record.get("headline"),
                ", ".join(e.get("name", "?") for e in record.get("entities", [])[:5]))
        except (ValueError, AttributeError):
            summary = "%d bytes, not a JSON object" % len(body)
        print("%s %s id=%s %s%s\n  %s" % (self.command, self.path, msg_id, verdict, repeat,
                                          summary), flush=True)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # the line above says it all
        pass


ThreadingHTTPServer(("", PORT), Hook).serve_forever()
