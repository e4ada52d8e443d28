"""Run localaws: in a background thread for tests (:class:`LocalAws`), or in the foreground (:func:`serve`).

moto keeps its backends in process-wide globals, so every ``LocalAws`` in one process shares moto's
state (and ``/_localaws/reset`` clears it for all of them); our own DRS/Aurora state is per instance.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from deploy.localaws.config import DEFAULT_ACCOUNT_ID, LocalAwsConfig
from deploy.localaws.state import LocalAwsState

log = logging.getLogger("deploy.localaws")


def _make_server(host: str, port: int, app: Any) -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        """moto's handler (keeps underscored headers) without werkzeug's access log: we log calls."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    return make_server(host, port, app, threaded=True, request_handler=QuietHandler)


class LocalAws:
    """A localaws endpoint in a background thread.

    >>> aws = LocalAws(port=0).start()   # port 0: pick a free port
    >>> aws.endpoint_url                 # 'http://127.0.0.1:54321'
    >>> aws.stop()
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        account: str = DEFAULT_ACCOUNT_ID,
        config: LocalAwsConfig | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.state = LocalAwsState(config=config or LocalAwsConfig(default_account=account))
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalAws:
        if self._server is not None:
            return self
        from deploy.localaws.app import LocalAwsApp

        self._server = _make_server(self.host, self.port, LocalAwsApp(self.state))
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="localaws", daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalAws is not started; call start() first")
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(host: str, port: int, account: str = DEFAULT_ACCOUNT_ID, seed: Path | None = None) -> None:
    """Serve in the foreground until interrupted (Ctrl-C or SIGTERM); optionally load a seed first."""
    aws = LocalAws(host, port, account=account).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(f"localaws listening on {aws.endpoint_url} (default account {account})", flush=True)
        credentials = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
        print(f"  export AWS_ENDPOINT_URL={aws.endpoint_url} {credentials}", flush=True)
        if seed is not None:
            from deploy.localaws.seed import load_estate

            summary = load_estate(aws.endpoint_url, seed)
            print(f"seeded {seed}: {summary['counts']}", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        aws.stop()
