"""Worker tasks: thin glue around `Recovery.step`."""

from __future__ import annotations

import logging

from celery import Celery
from sqlalchemy.exc import OperationalError

from shared.logs import log_context
from shared.messaging import RECOVER_RESOURCE

from .recovery import Recovery
from .work import PollAgain

log = logging.getLogger(__name__)


def register(app: Celery, recovery: Recovery, db_error_backoff: float) -> None:
    @app.task(name=RECOVER_RESOURCE, bind=True, max_retries=None)
    def recover_resource(self, resource_run_id: int, log_fields: dict | None = None) -> dict:
        with log_context(resource_run_id=resource_run_id, **(log_fields or {})):
            try:
                result = recovery.step(resource_run_id)
            except OperationalError as error:  # Postgres unreachable: try again, the run is unchanged
                log.warning("resource run %s: database error, retrying: %s", resource_run_id, error)
                raise self.retry(countdown=db_error_backoff) from error
            if isinstance(result, PollAgain):
                raise self.retry(countdown=result.after)
            log.info("resource run %s: %s", resource_run_id, result.status)
            return result.as_dict()
