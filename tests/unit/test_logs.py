"""DRWAVE_LOG_FORMAT: text by default, one JSON object per line with the execution's fields when asked."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared.logs import configure_logging, log_context


@pytest.fixture()
def captured():
    """configure_logging, with the handler it installs writing to a buffer; the root logger restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()

    def configure(log_format: str) -> io.StringIO:
        configure_logging("INFO", log_format)
        root.handlers[0].setStream(buffer)
        return buffer

    yield configure
    root.handlers[:], root.level = saved
    logging.captureWarnings(False)


def test_json_lines_carry_the_context_fields_that_apply(captured):
    buffer = captured("json")
    log = logging.getLogger("drwave.test")
    with log_context(execution_id="ex-7", wave=2):
        log.info("wave dispatched")
        with log_context(resource_run_id=41, arn="arn:aws:drs:us-west-2:123456789012:source-server/s-1"):
            log.warning("start deferred: %s", "Throttling")
    log.info("outside")
    first, second, third = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert first["message"] == "wave dispatched" and first["level"] == "INFO" and first["logger"] == "drwave.test"
    assert (first["execution_id"], first["wave"]) == ("ex-7", 2) and "arn" not in first
    assert second["message"] == "start deferred: Throttling"
    assert second["resource_run_id"] == 41 and second["arn"].endswith("s-1") and second["execution_id"] == "ex-7"
    assert {"time", "process"} <= set(third) and not set(third) & {"execution_id", "wave", "resource_run_id", "arn"}


def test_a_field_passed_as_extra_is_a_field_too(captured):
    buffer = captured("json")
    logging.getLogger("drwave.test").info("wave finished", extra={"wave": 3})
    assert json.loads(buffer.getvalue())["wave"] == 3


def test_an_exception_stays_inside_its_one_json_line(captured):
    buffer = captured("json")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("drwave.test").exception("start failed")
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1 and "ValueError: boom" in json.loads(lines[0])["exc_info"]


def test_text_stays_the_default_format(captured):
    buffer = captured("text")
    with log_context(execution_id="ex-7"):
        logging.getLogger("drwave.test").info("[ex-7] started")
    line = buffer.getvalue()
    assert "INFO" in line and "drwave.test: [ex-7] started" in line
    with pytest.raises(ValueError):
        json.loads(line)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="log format"):
        configure_logging("INFO", "xml")
