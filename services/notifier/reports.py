"""Write a finished execution's report to S3 (DRWAVE_REPORT_BUCKET)."""

from __future__ import annotations

import logging

from shared.aws.sessions import SessionFactory
from shared.db.engine import Database
from shared.reports import load, store

log = logging.getLogger(__name__)


class ReportWriter:
    def __init__(self, db: Database, sessions: SessionFactory, bucket: str):
        self.db = db
        self.sessions = sessions
        self.bucket = bucket

    def write(self, execution_id: str) -> list[str]:
        with self.db.engine.connect() as conn:
            report = load.report(conn, execution_id)
        if report is None:
            return []
        keys = store.put(self.sessions, self.bucket, report)
        log.info("[%s] report written to s3://%s/%s", execution_id, self.bucket, keys[0].rsplit("/", 1)[0])
        return keys
