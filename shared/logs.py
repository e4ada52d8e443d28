"""One log format for every service (API, scheduler, workers, `drwave run`).

Text (the default): time, level, process, logger, message — and the message names the execution
(``[ex-42] wave 2 dispatched: 14 resources``). JSON (``DRWAVE_LOG_FORMAT=json``): one object per line
with ``time``, ``level``, ``process``, ``logger``, ``message`` and, where they apply, ``execution_id``,
``wave``, ``resource_run_id`` and ``arn`` as fields of their own. Those fields come from
:func:`log_context`, set by the task glue around one unit of work, so no log call has to repeat them.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("text", "json")
CONTEXT_FIELDS = ("execution_id", "wave", "resource_run_id", "arn")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(processName)s %(name)s: %(message)s"

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "drwave_log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (None values are ignored) to every record logged inside the block, nested blocks
    adding to the outer ones."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    """Copies the current log context onto each record (fields a call passed in `extra` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class _DrwaveJsonFormatter(JsonFormatter):
    """Fixed keys first; the context fields only when they apply (absent rather than null)."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                log_data[name] = value


def formatter(log_format: str) -> logging.Formatter:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, not {log_format!r}")
    if log_format == "json":
        return _DrwaveJsonFormatter(
            "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "processName": "process", "name": "logger"},
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def handler(log_format: str = "text") -> logging.Handler:
    """A stderr handler writing `log_format`, the log context included (also gunicorn's, see dict_config)."""
    stream = logging.StreamHandler()
    stream.setFormatter(formatter(log_format))
    stream.addFilter(_ContextFilter())
    return stream


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Send every record of this process to stderr in `log_format` ("text" or "json")."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.basicConfig(level=level.upper(), handlers=[handler(log_format)], force=True)
    logging.captureWarnings(True)  # a library's warning is a record like any other (one JSON line)


def dict_config(level: str = "INFO", log_format: str = "text") -> dict[str, Any]:
    """The same set-up as a logging.config.dictConfig dictionary, for gunicorn's `logconfig_dict`: its
    own error and access loggers hand their records to the root's handler instead of writing their own."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level.upper(), "handlers": ["drwave"]},
        "loggers": {
            name: {"level": "INFO", "handlers": [], "propagate": True}
            for name in ("gunicorn.error", "gunicorn.access", "py.warnings")
        },
        "handlers": {"drwave": {"()": f"{__name__}.handler", "log_format": log_format}},
    }
