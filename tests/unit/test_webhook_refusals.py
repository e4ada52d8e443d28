"""A receiver's refusal is echoed into the delivery's last_error: its first 200 characters, with no control
character left (PostgreSQL cannot store a NUL; a terminal showing the error must not interpret escapes)."""

from __future__ import annotations

import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.notify.senders import ECHOED_BODY_CHARS, SlackSender, WebhookSender

HOSTILE = "no\x00pe\x1b[31m red\r\nSet-Cookie: x\x07\x7f\u0085" + "z" * 400


class _Refusing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = HOSTILE.encode()
        self.send_response(500)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _refused_by_receiver(sender: WebhookSender | SlackSender) -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        envelope = {"id": "ev-1", "type": "x", "data": {"message": "m"}}
        sent = sender.send(f"http://127.0.0.1:{server.server_port}/hook", "whsec_c2VjcmV0", envelope)
    finally:
        server.shutdown()
    assert (sent.ok, sent.status_code) == (False, 500)
    return sent.error or ""


def test_a_refusing_webhook_receivers_answer_is_echoed_without_control_characters():
    error = _refused_by_receiver(WebhookSender(timeout=5.0, allow_private=True))
    assert [c for c in error if unicodedata.category(c) == "Cc"] == []
    assert error.startswith("HTTP 500: no pe [31m red  Set-Cookie: x")
    assert len(error) == len("HTTP 500: ") + ECHOED_BODY_CHARS


def test_a_refusing_slack_receivers_answer_is_echoed_without_control_characters():
    error = _refused_by_receiver(SlackSender(timeout=5.0, allow_private=True))
    assert "\x00" not in error and "\n" not in error and error.startswith("HTTP 500: no pe")
