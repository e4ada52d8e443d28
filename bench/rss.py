"""Peak resident memory and CPU time of a process and every process below it, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (prefork children, gunicorn workers, Celery beat)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in (PROC / str(current) / "task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def vm_hwm_kib(pid: int) -> int | None:
    """VmHWM (peak RSS since the process started), or None when it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss(processes: dict[str, int]) -> dict[str, dict]:
    """For each named process: the peak RSS (MiB) of it and of each process below it, and their max."""
    report = {}
    for name, pid in processes.items():
        peaks = {p: kib for p in descendants(pid) if (kib := vm_hwm_kib(p)) is not None}
        report[name] = {
            "pids": {str(p): round(kib / 1024, 1) for p, kib in peaks.items()},
            "max_mib": round(max(peaks.values(), default=0) / 1024, 1),
        }
    return report


def cpu_seconds(processes: dict[str, int]) -> dict[str, float]:
    """For each named process: user + system CPU seconds of it and every live process below it (a
    difference of two readings is the CPU a benchmark run cost each one: where the time goes)."""
    totals = {}
    for name, pid in processes.items():
        ticks = 0
        for p in descendants(pid):
            try:
                fields = (PROC / str(p) / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        totals[name] = ticks / CLOCK_TICKS
    return totals
