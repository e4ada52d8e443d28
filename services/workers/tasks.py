"""Worker tasks: thin glue around `Recovery.step`."""

from __future__ import annotations

import logging

from celery import Celery
from sqlalchemy.exc import OperationalError

from shared.messaging import RECOVER_RESOURCE

from .recovery import Recovery
from .work import PollAgain

log = logging.getLogger(__name__)


def register(app: Celery, recovery: Recovery, db_error_backoff: float) -> None:
    @app.task(name=RECOVER_RESOURCE, bind=True, max_retries=None)
    def recover_resource(self, resource_run_id: int) -> dict:
        try:
            result = recovery.step(resource_run_id)
        except OperationalError as error:  # Postgres unreachable: try again, the run is unchanged
            log.warning("resource run %s: database error, retrying: %s", resource_run_id, error)
            raise self.retry(countdown=db_error_backoff) from error
        if isinstance(result, PollAgain):
            raise self.retry(countdown=result.after)
        return result.as_dict()
