"""`free_port` picks ports below the kernel's ephemeral range, so no outgoing connection can take one
between the pick and its use."""

import socket

import pytest

from shared.embedded.processes import CHOSEN_PORTS, EmbeddedServerError, free_port


def test_a_free_port_is_outside_the_ephemeral_range_and_can_be_bound():
    ports = {free_port() for _ in range(20)}

    assert all(port in CHOSEN_PORTS and port < 32768 for port in ports)
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_port_something_is_bound_to_is_never_picked(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        monkeypatch.setattr("shared.embedded.processes.CHOSEN_PORTS", range(busy, busy + 1))

        with pytest.raises(EmbeddedServerError, match="no free port"):
            free_port(attempts=1)
