"""One log format for every service: time, level, process, logger, message (which names the execution)."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(processName)s %(name)s: %(message)s",
        force=True,
    )
