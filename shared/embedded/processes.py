"""What the embedded servers share: free ports, waiting for a port, and stopping a server by its pid."""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass

from shared.processes import pid_alive

# Generous on purpose: a cold start on a loaded 2-core machine can take tens of seconds.
READY_TIMEOUT = 600.0
STOP_TIMEOUT = 60.0


class EmbeddedServerError(RuntimeError):
    """An embedded server cannot start here; the message says why and what to do instead."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, what: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise EmbeddedServerError(f"{what} did not open port {port} within {timeout:.0f}s")
        time.sleep(0.05)


@dataclass
class EmbeddedServer:
    """A running embedded server; `started` tells whether this process started it.

    Stopped by signalling its pid (PostgreSQL: SIGINT is a fast shutdown), which works whoever runs
    the server and whatever mount namespace it lives in."""

    url: str
    port: int
    started: bool
    pid: int
    stop_signal: signal.Signals = signal.SIGTERM

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if not pid_alive(self.pid):
            return
        os.kill(self.pid, self.stop_signal)
        deadline = time.monotonic() + timeout
        while pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
