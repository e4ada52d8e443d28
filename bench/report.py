"""The bench's results as a Markdown table: every drwave figure next to the floor's and their ratio."""

from __future__ import annotations

TARGETS = {
    "B1": "p50 <= 1.4x, p95 <= 1.6x floor",
    "B2": "p50 <= 3x floor B1 p50",
    "B3": "<= 1.2x bare chord",
    "B3size": "<= 11x the 1,000 time, RSS <= 1.5x",
    "B7": ">= 0.7x floor tasks/s",
    "B6": "p50 <= 2 s, p95 <= 5 s; DescribeJobs <= 1/s per account+Region",
}


def ratio_of(value: float, base: float) -> float:
    return round(value / base, 2) if base else float("nan")


def table(results: dict) -> str:
    lines = ["| benchmark | drwave | floor (bare Celery) | ratio | target |", "|---|---|---|---|---|"]
    b1 = results.get("B1_wave_to_wave")
    if b1:
        floor = b1["floor"]
        lines.append(
            f"| B1 wave-to-wave ({b1['samples']} gaps) | p50 {b1['p50_ms']:.1f} ms, p95 {b1['p95_ms']:.1f} ms"
            f" | p50 {floor['p50_ms']:.1f} ms, p95 {floor['p95_ms']:.1f} ms"
            f" | p50 {b1['ratio_p50']}x, p95 {b1['ratio_p95']}x | {TARGETS['B1']} |"
        )
        parts = ", ".join(f"{name.removesuffix('_ms')} {value} ms" for name, value in b1["breakdown_p50_ms"].items())
        lines.append(f"| B1 gap, p50 of each piece | {parts} | - | - | - |")
    b2 = results.get("B2_resume_to_first_task")
    if b2 and b1:
        lines.append(
            f"| B2 resume -> first task ({b2['samples']}) | p50 {b2['p50_ms']:.1f} ms, p95 {b2['p95_ms']:.1f} ms"
            f" | B1 p50 {b1['floor']['p50_ms']:.1f} ms | {b2['ratio_p50_to_floor_b1_p50']}x | {TARGETS['B2']} |"
        )
    for b3 in results.get("B3_one_wave", []):
        lines.append(
            f"| B3 one wave of {b3['resources']} (median of {b3['rounds']}) | {b3['seconds']:.2f} s"
            f" ({', '.join(b3['statuses'])}) | {b3['floor_seconds']:.2f} s | {b3['ratio']}x | {TARGETS['B3']} |"
        )
        if "cpu_seconds_per_run" in b3:
            spent = ", ".join(f"{name} {seconds:.2f}" for name, seconds in b3["cpu_seconds_per_run"].items())
            lines.append(f"| B3 {b3['resources']}: CPU seconds per run | {spent} | - | - | - |")
        if "vs_1000" in b3:
            rss = ", ".join(
                f"{name} {b3['peak_rss'][name]['max_mib']} MiB ({r}x)" for name, r in b3["vs_1000"]["rss_ratio"].items()
            )
            get, page = b3["get_execution"]["all"], b3["get_execution"]["page_500"]
            lines.append(
                f"| B3 {b3['resources']} vs 1,000 | time {b3['vs_1000']['time_ratio']}x; peak RSS {rss};"
                f" GET execution p50 {get['p50_ms']} ms ({get['bytes']} bytes), with resourcesLimit=500"
                f" {page['p50_ms']} ms ({page['bytes']} bytes) | - | - | {TARGETS['B3size']}, GET <= 1 s |"
            )
    b7 = results.get("B7_many_at_once")
    if b7:
        held = all(b7["invariants"].values())
        lines.append(
            f"| B7 {b7['executions']} executions at once ({b7['resources']} resources)"
            f" | {b7['steps_per_second']} steps/s,"
            f" {b7['seconds']:.1f} s; durations {b7['durations_s'][0]}-{b7['durations_s'][-1]} s; invariants"
            f" {'hold' if held else 'BROKEN'} | {b7['floor']['tasks_per_second']:.1f} tasks/s"
            f" | {b7['ratio']}x | {TARGETS['B7']} |"
        )
    slow = results.get("B8_b1_slow_subscriber")
    if slow and b1:
        lines.append(
            f"| B8 B1 with a subscriber sleeping {slow['receiver_sleep_s']:.0f} s/request ({slow['samples']} gaps)"
            f" | p50 {slow['p50_ms']:.1f} ms, p95 {slow['p95_ms']:.1f} ms | -"
            f" | p50 {ratio_of(slow['p50_ms'], b1['p50_ms'])}x of B1 | as B1 |"
        )
    report = results.get("B9_report_render")
    if report:
        lines.append(
            f"| B9 HTML report of {report['resources']} resources | {report['worst_s']:.2f} s"
            f" ({report['html_bytes']} bytes) | - | - | < 2 s |"
        )
    b6 = results.get("B6_aws_done_lag")
    if b6:
        for kind, lag in b6["lag"].items():
            lines.append(
                f"| B6 {kind}: AWS done -> finished_at ({lag['samples']}) | p50 {lag['p50_s']} s, p95 {lag['p95_s']} s"
                f" | - | - | {TARGETS['B6']} |"
            )
        lines.append(
            f"| B6 DescribeJobs per second per account+Region | max {b6['describe_jobs_per_second_max']}"
            f" | - | - | <= 1/s |"
        )
    if "B5_drs_calls" in results:
        from bench.b5_drs import report

        lines += ["", report(results["B5_drs_calls"])]
    return "\n".join(lines)
