"""A webhook target that answers with a redirect is a failed delivery: following it could lead past the
private-address check to an internal service."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.notify.senders import WebhookSender


class _Redirecting(BaseHTTPRequestHandler):
    followed: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/hook":
            self.send_response(307)
            self.send_header("Location", "/internal")
            self.end_headers()
            return
        _Redirecting.followed.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_redirecting_webhook_target_fails_without_following_the_redirect() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sender = WebhookSender(timeout=5.0, allow_private=True)
        sent = sender.send(f"http://127.0.0.1:{server.server_port}/hook", None, {"id": "ev-1", "type": "x", "data": {}})
    finally:
        server.shutdown()
    assert (sent.ok, sent.status_code) == (False, 307)
    assert "redirect not followed" in (sent.error or "")
    assert _Redirecting.followed == []
