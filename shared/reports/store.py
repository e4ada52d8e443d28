"""Write an execution's report to S3: s3://BUCKET/reports/<executionId>/report.json and report.html."""

from __future__ import annotations

import json
from typing import Any

from shared.aws.sessions import SessionFactory

from . import html


def put(sessions: SessionFactory, bucket: str, report: dict[str, Any]) -> list[str]:
    """Returns the keys written."""
    prefix = f"reports/{report['execution']}/"
    s3 = sessions.client("s3")
    objects = {
        "report.json": (json.dumps(report, indent=2).encode(), "application/json"),
        "report.html": (html.render(report).encode(), "text/html; charset=utf-8"),
    }
    for name, (body, content_type) in objects.items():
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=body, ContentType=content_type)
    return [prefix + name for name in objects]
