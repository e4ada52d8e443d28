"""The report as one self-contained HTML page: inline CSS, the inline SVG timeline, the tables; no
scripts, no external assets, so it can be mailed to an auditor and opened anywhere."""

from __future__ import annotations

from html import escape
from typing import Any

from . import svg

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#2e7d32}.bad{color:#c62828;font-weight:bold}code{font-size:12px}
.timeline{overflow-x:auto;border:1px solid #ddd;padding:4px}
"""


def _e(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _met(value: bool | None) -> str:
    if value is None:
        return "n/a"
    return '<span class="ok">met</span>' if value else '<span class="bad">missed</span>'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _or_none(headers: list[str], rows: list[list[str]]) -> str:
    return _table(headers, rows) if rows else "<p>none</p>"


def render(report: dict[str, Any]) -> str:
    rto = report["rto"]
    summary = _table(
        ["field", "value"],
        [
            ["execution", _e(report["execution"])],
            ["plan", f"{_e(report['plan']['name'])} ({_e(report['plan']['id'])})"],
            ["mode / phase", f"{_e(report['mode'])} / {_e(report['phase'])}"],
            ["status", f"{_e(report['status'])} {_e(report.get('statusReason') or '')}"],
            ["started by", _e(report["startedBy"])],
            ["reason", _e(report["reason"])],
            ["started / finished", f"{_e(report['startedAt'])} → {_e(report['finishedAt'])}"],
            ["duration", f"{_e(report['durationSeconds'])} s (gate waits {_e(report['gateWaitSeconds'])} s)"],
            [
                "RTO",
                f"target {_e(rto['targetMinutes'])} min; actual {_e(rto['actualSeconds'])} s, "
                f"{_e(rto['actualExcludingGatesSeconds'])} s excluding gate waits: {_met(rto['met'])}",
            ],
        ],
    )
    waves = _table(
        ["wave", "status", "start", "finish", "duration s", "RTO target", "RTO", "resources"],
        [
            [
                f"{w['number']} {_e(w['name'])}",
                _e(w["status"]),
                _e(w["startedAt"]),
                _e(w["finishedAt"]),
                _e(w["durationSeconds"]),
                f"{_e(w['rtoTargetMinutes'])} min" if w["rtoTargetMinutes"] is not None else "n/a",
                _met(w["rtoMet"]),
                ", ".join(f"{_e(k)} {v}" for k, v in sorted(w["counts"].items())) or "none",
            ]
            for w in report["waves"]
        ],
    )
    failures = [
        [
            f"{w['number']}",
            _e(f["arn"]),
            f"{f['attempt']}",
            _e(f["status"]),
            _e(f["error"]),
            f"<code>{_e(f['operationId'])}</code>",
        ]
        for w in report["waves"]
        for f in w["failures"]
    ]
    attempts = [
        [
            f"{w['number']}",
            _e(r.get("arn") or r["name"]),  # an action's entry names its run "name"
            f"{a['attempt']}",
            _e(a["status"]),
            _e(a["error"]),
            f"<code>{_e(a['operationId'])}</code>",
            f"{_e(a['startedAt'])} → {_e(a['finishedAt'])}",
        ]
        for w in report["waves"]
        for r in [*w.get("actions", []), *w["resources"]]
        if len(r.get("attempts", ())) > 1
        for a in r["attempts"]
    ]
    skipped = [
        [f"{w['number']}", _e(r["arn"]), _e(r.get("skipReason"))]
        for w in report["waves"]
        for r in w["resources"]
        if r["status"] == "SKIPPED"
    ]
    retries = [[_e(r["at"]), _e(r["by"]), _e(r["message"])] for r in report.get("retries", [])]
    actions = [
        [
            f"{w['number']}",
            _e(a["phase"]),
            f"{_e(a['type'])} <code>{_e(a['target'])}</code>",
            _e(a["status"]),
            f"{_e(a['startedAt'])} → {_e(a['finishedAt'])}",
            _e(a["error"]),
            f"<code>{_e(a['output'])}</code>",
        ]
        for w in report["waves"]
        for a in w.get("actions", [])
    ]
    approvals = [
        [f"{w['number']}", _e(a["by"]), _e(a["role"]), _e(a["comment"]), _e(a["at"])]
        for w in report["waves"]
        for a in w["approvals"]
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>drwave report {_e(report['execution'])}</title><style>{CSS}</style></head><body>"
        f"<h1>Recovery report: {_e(report['execution'])} — {_e(report['plan']['name'])}</h1>{summary}"
        f'<h2>Timeline</h2><div class="timeline">{svg.render(report)}</div>'
        f"<h2>Waves</h2>{waves}"
        f"<h2>Wave actions</h2>{_or_none(['wave', 'when', 'action', 'status', 'ran', 'error', 'output'], actions)}"
        f"<h2>Failures</h2>{_or_none(['wave', 'resource', 'attempt', 'status', 'error', 'AWS operation'], failures)}"
        f"<h2>Retries</h2>{_or_none(['at', 'by', 'what'], retries)}"
        f"<h2>Attempts of retried resources and actions</h2>"
        f"{_or_none(['wave', 'resource', 'attempt', 'status', 'error', 'AWS operation', 'start → finish'], attempts)}"
        f"<h2>Skipped</h2>{_or_none(['wave', 'resource', 'reason'], skipped)}"
        f"<h2>Approvals</h2>{_or_none(['wave', 'by', 'role', 'comment', 'at'], approvals)}"
        f"<p><small>generated {_e(report.get('generatedAt'))} by drwave</small></p></body></html>"
    )
