"""A local webhook receiver for the integration tests: it checks Standard Webhooks signatures and can fail
first attempts (or every attempt)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    """A webhook receiver on 127.0.0.1 that checks every signature and answers 500 to the first attempt of
    the event types in `fail_first` (to every attempt while `refuse_all` is set)."""

    def __init__(self, fail_first: set[str] = frozenset()):
        self.fail_first = set(fail_first)
        self.delay = 0.0  # seconds it takes to answer (a slow receiver)
        self.refuse_all = False  # a receiver that is down: 500 to everything
        self.secret: str | None = None
        self.requests: list[dict] = []  # every attempt: id, type, status answered, verified
        self.accepted: list[dict] = []  # envelopes answered 2xx, in arrival order
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.handle(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def first(self, event_type: str) -> dict | None:
        """The first accepted envelope of ``event_type``, if one arrived."""
        return next((e for e in self.accepted if e["type"] == event_type), None)

    def handle(self, handler: BaseHTTPRequestHandler, body: str) -> None:
        time.sleep(self.delay)
        if self.secret is None:  # a Slack incoming webhook: unsigned, {text, blocks}
            with self.lock:
                self.accepted.append(json.loads(body))
            handler.send_response(200)
            handler.end_headers()
            return
        try:
            envelope = Webhook(self.secret).verify(body, dict(handler.headers))
            verified = True
        except WebhookVerificationError:
            envelope, verified = json.loads(body), False
        with self.lock:
            seen = [r for r in self.requests if r["id"] == handler.headers["webhook-id"]]
            status = 500 if self.refuse_all or (envelope["type"] in self.fail_first and not seen) else 200
            if not verified:
                status = 401
            self.requests.append(
                {"id": handler.headers["webhook-id"], "type": envelope["type"], "status": status, "verified": verified}
            )
            if status == 200:
                self.accepted.append(envelope)
        handler.send_response(status)
        handler.end_headers()
        if self.refuse_all:
            handler.wfile.write(b"down for maintenance")

    def close(self) -> None:
        self.server.shutdown()
