"""The SVG timeline of a report: a bar per wave and per resource on one time axis, gate waits drawn as
hatched gaps, failures in red with a cross. Pure: report dict in, SVG text out (no scripts, no links)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

WIDTH = 1100
LABEL = 330
CHART = WIDTH - LABEL - 20
WAVE_ROW = 22
RESOURCE_ROW = 11
AXIS = 30
COLORS = {
    "SUCCEEDED": "#2e7d32",
    "COMPLETED": "#2e7d32",
    "FAILED": "#c62828",
    "TIMED_OUT": "#c62828",
    "COMPLETED_WITH_FAILURES": "#ef6c00",
    "CANCELLED": "#757575",
    "SKIPPED": "#bdbdbd",
    "RUNNING": "#1565c0",
    "IN_PROGRESS": "#1565c0",
    "STARTING": "#1565c0",
    "PENDING": "#9e9e9e",
}
FAILED = frozenset({"FAILED", "TIMED_OUT"})


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class _Axis:
    def __init__(self, report: dict[str, Any]):
        times = [_t(report.get("startedAt") or report.get("createdAt"))]
        for wave in report["waves"]:
            times += [_t(wave["startedAt"]), _t(wave["finishedAt"])]
            times += [_t(r["finishedAt"]) for r in wave["resources"]]
        times += [_t(g["to"]) for g in report.get("gates", [])]
        known = [t for t in times if t is not None]
        self.start = min(known) if known else None
        end = _t(report.get("finishedAt")) or (max(known) if known else None)
        self.span = max((end - self.start).total_seconds(), 1e-3) if self.start and end else 1.0
        self.end = end

    def x(self, value: datetime | None, default: datetime | None = None) -> float:
        value = value or default
        if value is None or self.start is None:
            return float(LABEL)
        return LABEL + CHART * min(max((value - self.start).total_seconds() / self.span, 0.0), 1.0)


def render(report: dict[str, Any]) -> str:
    axis = _Axis(report)
    rows: list[str] = []
    y = AXIS
    for wave in report["waves"]:
        rows.append(_bar(axis, y, WAVE_ROW - 4, wave["startedAt"], wave["finishedAt"], wave["status"], bold=True))
        rows.append(_label(y + WAVE_ROW - 8, f"Wave {wave['number']} {wave['name']}", bold=True))
        y += WAVE_ROW
        for run in wave["resources"]:
            rows.append(_bar(axis, y, RESOURCE_ROW - 3, run["startedAt"], run["finishedAt"], run["status"]))
            if run["status"] in FAILED:
                x = axis.x(_t(run["finishedAt"]), axis.end)
                rows.append(f'<text x="{x + 3:.1f}" y="{y + RESOURCE_ROW - 3}" class="x">✕</text>')
            rows.append(_label(y + RESOURCE_ROW - 3, _short(run["arn"]), size=8))
            y += RESOURCE_ROW
    height = y + 10
    gates = []
    for gate in report.get("gates", []):
        x1, x2 = axis.x(_t(gate["from"])), axis.x(_t(gate["to"]))
        gates.append(
            f'<rect x="{x1:.1f}" y="{AXIS - 6}" width="{max(x2 - x1, 1):.1f}" height="{height - AXIS}" '
            f'fill="url(#gate)" stroke="#ffa000" stroke-dasharray="3 2"><title>gate: {escape(str(gate["reason"]))} '
            f"({gate['seconds']}s)</title></rect>"
        )
        gates.append(f'<text x="{x1 + 2:.1f}" y="{AXIS - 10}" class="g">gate {gate["seconds"]:.0f}s</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="timeline of {escape(report["execution"])}">'
        "<style>text{font:10px sans-serif;fill:#222}.b{font-weight:bold}.x{fill:#c62828;font-size:9px}"
        ".g{fill:#e65100;font-size:9px}</style>"
        '<defs><pattern id="gate" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="3" height="6" fill="#ffe0b2"/></pattern></defs>'
        f"{_ticks(axis, height)}{''.join(gates)}{''.join(rows)}</svg>"
    )


def _ticks(axis: _Axis, height: int) -> str:
    parts = [f'<line x1="{LABEL}" y1="{AXIS - 4}" x2="{LABEL + CHART}" y2="{AXIS - 4}" stroke="#999"/>']
    for i in range(6):
        x = LABEL + CHART * i / 5
        parts.append(f'<line x1="{x:.1f}" y1="{AXIS - 8}" x2="{x:.1f}" y2="{height}" stroke="#eee"/>')
        parts.append(f'<text x="{x + 2:.1f}" y="12">+{axis.span * i / 5:.1f}s</text>')
    return "".join(parts)


def _bar(axis: _Axis, y: int, h: int, start: str | None, end: str | None, status: str, bold: bool = False) -> str:
    if start is None:
        return ""
    x1 = axis.x(_t(start))
    x2 = axis.x(_t(end), axis.end)
    color = COLORS.get(status, "#9e9e9e")
    stroke = ' stroke="#111"' if bold else ""
    return (
        f'<rect x="{x1:.1f}" y="{y}" width="{max(x2 - x1, 1.5):.1f}" height="{h}" fill="{color}"{stroke}>'
        f"<title>{escape(status)}</title></rect>"
    )


def _label(y: int, text: str, *, bold: bool = False, size: int = 10) -> str:
    cls = ' class="b"' if bold else ""
    return f'<text x="4" y="{y}" font-size="{size}"{cls}>{escape(text)}</text>'


def _short(arn: str, limit: int = 60) -> str:
    return arn if len(arn) <= limit else "…" + arn[-(limit - 1) :]
