"""Peak resident memory of a process and every process below it, read from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


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
