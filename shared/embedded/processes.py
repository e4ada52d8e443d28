"""What the embedded servers share: free ports, waiting for a port, and stopping a server by its pid."""

from __future__ import annotations

import os
import random
import signal
import socket
import time
from dataclasses import dataclass

from shared.processes import pid_alive

# Generous on purpose: a cold start on a loaded 2-core machine can take tens of seconds.
READY_TIMEOUT = 600.0
STOP_TIMEOUT = 60.0
# Below the kernel's ephemeral range (Linux 32768-60999, macOS 49152-65535): a port from here is never
# handed to another process's outgoing connection or bind to port 0 between our check and its use.
CHOSEN_PORTS = range(20000, 32768)


class EmbeddedServerError(RuntimeError):
    """An embedded server cannot start here; the message says why and what to do instead."""


def free_port(attempts: int = 200) -> int:
    """A port nothing listens on now, picked at random from `CHOSEN_PORTS` (the kernel's own pick, port 0,
    comes from the ephemeral range, which every outgoing connection draws from too: under load a
    connection to Redis took a port a test had just picked for Flower)."""
    for port in random.sample(CHOSEN_PORTS, attempts):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise EmbeddedServerError(f"no free port among {attempts} tried in {CHOSEN_PORTS}")


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
