#!/usr/bin/env python3
"""A webhook receiver for byline's tests: a real HTTP/1.1 server on loopback.

It verifies Standard Webhooks signatures with its own code (hmac, hashlib,
base64 from the Python standard library, not byline's), answers as the test
tells it, and records what it accepted.

  webhook_receiver.py --port P [--secret "whsec_A [whsec_B]"] [--mode MODE]
                      [--log FILE] [--down-for SECONDS] [--seed N]

MODE (also settable at run time: POST /_control {"mode": "..."}):
  ok            200 to every signed request
  status:N      answer N (500, 410, 404, 503 ...)
  429:S         429 with "Retry-After: S"
  hang:S        wait S seconds, then 200 (past the sender's timeout)
  close         read the request, close the connection without an answer
  flaky:F       answer 500 to a random fraction F of requests, else 200
  down:S        (control only) stop listening for S seconds (connections
                are refused), then listen again on the same port

GET /_stats answers JSON: requests, accepted_requests, accepted_records,
unique_records, duplicates, bad_signatures, by_status.
--log FILE gets one line per accepted record: webhook-id TAB record-id.
"""
import argparse
import base64
import hashlib
import hmac
import json
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_S = 300


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.mode = args.mode
        self.keys = [base64.b64decode(s[len("whsec_"):]) for s in (args.secret or "").split()]
        self.random = random.Random(args.seed)
        self.down = False
        self.requests = 0
        self.accepted_requests = 0
        self.accepted_records = 0
        self.unique = set()
        self.bad_signatures = 0
        self.by_status = {}
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def stats(self):
        with self.lock:
            return {
                "requests": self.requests,
                "accepted_requests": self.accepted_requests,
                "accepted_records": self.accepted_records,
                "unique_records": len(self.unique),
                "duplicates": self.accepted_records - len(self.unique),
                "bad_signatures": self.bad_signatures,
                "by_status": dict(self.by_status),
                "mode": self.mode,
            }


def verify(keys, headers, body):
    """Standard Webhooks v1: base64(HMAC-SHA256(key, id.timestamp.body))."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    if not msg_id or not ts or not sigs:
        return False, "missing webhook headers"
    try:
        if abs(time.time() - int(ts)) > TOLERANCE_S:
            return False, "timestamp outside tolerance"
    except ValueError:
        return False, "bad timestamp"
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    offered = [s.split(",", 1)[1] for s in sigs.split() if s.startswith("v1,")]
    for key in keys:
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, o) for o in offered):
            return True, ""
    return False, "no signature matches"


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def answer(self, status, extra_headers=(), body=b""):
            self.send_response(status)
            for name, value in extra_headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self):
            if self.path == "/_stats":
                self.answer(200, [("Content-Type", "application/json")],
                            json.dumps(state.stats()).encode())
            else:
                self.answer(404)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path == "/_control":
                req = json.loads(body or b"{}")
                mode = req.get("mode", "")
                if mode.startswith("down:"):
                    self.answer(200)
                    threading.Thread(target=go_down, args=(float(mode[5:]),), daemon=True).start()
                    return
                with state.lock:
                    state.mode = mode
                self.answer(200)
                return
            if state.down:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            with state.lock:
                state.requests += 1
                mode = state.mode
                roll = state.random.random()
            status, headers = 200, []
            if mode.startswith("status:"):
                status = int(mode[7:])
            elif mode.startswith("429:"):
                status, headers = 429, [("Retry-After", mode[4:])]
            elif mode.startswith("hang:"):
                time.sleep(float(mode[5:]))
            elif mode == "close":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            elif mode.startswith("flaky:"):
                if roll < float(mode[6:]):
                    status = 500
            if status == 200 and state.keys:
                ok, why = verify(state.keys, self.headers, body)
                if not ok:
                    with state.lock:
                        state.bad_signatures += 1
                    status = 401
            if status == 200 and self.headers.get("Content-Type") != "application/json":
                status = 415
            ids = []
            if status == 200:
                try:
                    doc = json.loads(body)
                    records = doc if isinstance(doc, list) else [doc]
                    ids = [str(r.get("id", "")) for r in records]
                except (ValueError, AttributeError):
                    status = 400
            with state.lock:
                state.by_status[str(status)] = state.by_status.get(str(status), 0) + 1
                if status == 200:
                    state.accepted_requests += 1
                    state.accepted_records += len(ids)
                    state.unique.update(ids)
                    if state.log:
                        msg_id = self.headers.get("webhook-id", "")
                        state.log.write("".join("%s\t%s\n" % (msg_id, i) for i in ids))
            self.answer(status, headers)

    return Handler


server = None
server_lock = threading.Lock()


def serve(port, state):
    global server
    with server_lock:
        srv = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state))
        srv.daemon_threads = True
        server = srv
    srv.serve_forever(poll_interval=0.05)


def go_down(seconds):
    state = STATE
    with server_lock:
        srv = server
    state.down = True
    srv.shutdown()
    srv.server_close()
    time.sleep(seconds)
    state.down = False
    threading.Thread(target=serve, args=(ARGS.port, state), daemon=True).start()


def main():
    global STATE, ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", default="")
    p.add_argument("--mode", default="ok")
    p.add_argument("--log")
    p.add_argument("--down-for", type=float, default=0)
    p.add_argument("--seed", type=int, default=1)
    ARGS = p.parse_args()
    STATE = State(ARGS)
    if ARGS.down_for > 0:
        time.sleep(ARGS.down_for)  # refusing connections: nothing listens yet
    ThreadingHTTPServer.allow_reuse_address = True
    t = threading.Thread(target=serve, args=(ARGS.port, STATE), daemon=True)
    t.start()
    print("webhook_receiver: listening on 127.0.0.1:%d" % ARGS.port, file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
