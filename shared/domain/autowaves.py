"""Auto-waved plans: group evaluated resources into waves by ``dr:wave`` / ``dr:priority``.

Pure module (no I/O). Input is the :class:`~shared.domain.tags.TagEvaluation` of every resource a
tag selection found; output is deterministic — waves ascend by number, resources inside a wave
ascend by ARN — so the same tags always give the same plan, preview and validate.

* Only ``valid`` evaluations (enrolled, no errors) are grouped. :func:`split_valid` hands back the
  invalid ones (those with errors) for preview/validate to list; resources that are simply not
  enrolled (``dr:enabled=false`` or missing) are in neither list.
* A resource selected twice (e.g. by two protection groups) appears once: evaluations are
  de-duplicated by ARN. Should two evaluations of one ARN disagree (stale snapshots), the
  conservative one is kept — one with errors, else a not-enrolled one, else the lowest wave — so the
  result never depends on input order.
* Waves are numbered by their ``dr:wave`` number, so gaps are kept (waves 1 and 3 stay 1 and 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.domain.tags import PRIORITIES, TagEvaluation


@dataclass(frozen=True)
class AutoWave:
    """One wave of an auto-waved plan."""

    number: int
    name: str
    resources: tuple[TagEvaluation, ...]

    @property
    def rto_target_minutes(self) -> int:
        """The largest RTO target in the wave (its resources recover in parallel); 0 when empty."""
        return max((r.rto_minutes or 0 for r in self.resources), default=0)


def split_valid(
    evaluations: Iterable[TagEvaluation],
) -> tuple[tuple[TagEvaluation, ...], tuple[TagEvaluation, ...]]:
    """``(valid, invalid)``: valid ones sorted by (wave, ARN), invalid ones (with errors) by ARN.

    Not-enrolled evaluations without errors are dropped; duplicates (same ARN) are dropped.
    """
    valid: list[TagEvaluation] = []
    invalid: list[TagEvaluation] = []
    for evaluation in _unique_by_arn(evaluations):
        if evaluation.valid:
            valid.append(evaluation)
        elif evaluation.errors:
            invalid.append(evaluation)
    valid.sort(key=lambda e: (e.wave or 0, e.arn))
    invalid.sort(key=lambda e: e.arn)
    return tuple(valid), tuple(invalid)


def group_into_waves(evaluations: Iterable[TagEvaluation]) -> list[AutoWave]:
    """Group the valid evaluations into waves, ascending by wave number; invalid ones are ignored."""
    valid, _ = split_valid(evaluations)
    by_wave: dict[int, list[TagEvaluation]] = {}
    for evaluation in valid:
        if evaluation.wave is not None:  # always true for a valid evaluation
            by_wave.setdefault(evaluation.wave, []).append(evaluation)
    return [
        AutoWave(number=number, name=wave_name(number, members), resources=tuple(members))
        for number, members in sorted(by_wave.items())
    ]


def wave_name(number: int, resources: Iterable[TagEvaluation]) -> str:
    """``"Wave 1 (critical)"``; several priorities are listed most urgent first:
    ``"Wave 4 (medium, low)"``; no known priority gives just ``"Wave 4"``."""
    present = {r.priority for r in resources}
    priorities = [p for p in PRIORITIES if p in present]
    return f"Wave {number} ({', '.join(priorities)})" if priorities else f"Wave {number}"


def rto_estimate_minutes(waves: Iterable[AutoWave]) -> int:
    """Estimated RTO of the whole plan, in minutes.

    Waves run one after another and the resources of a wave in parallel, so a wave takes as long as
    its slowest resource: the estimate is the sum over waves of the largest RTO target in each wave.
    E.g. wave 1 {critical 15} + wave 2 {high 30, low 240 pinned by dr:wave=2} = 15 + 240 = 255.
    Empty waves count 0.
    """
    return sum(wave.rto_target_minutes for wave in waves)


def _unique_by_arn(evaluations: Iterable[TagEvaluation]) -> list[TagEvaluation]:
    chosen: dict[str, TagEvaluation] = {}
    for evaluation in evaluations:
        current = chosen.get(evaluation.arn)
        if current is None or _preference(evaluation) < _preference(current):
            chosen[evaluation.arn] = evaluation
    return list(chosen.values())


def _preference(evaluation: TagEvaluation) -> tuple[bool, bool, int, str]:
    """Which of two disagreeing evaluations of one ARN to keep: one with errors, else a
    not-enrolled one, else the lowest wave; ``repr`` breaks remaining ties."""
    return (not evaluation.errors, evaluation.enrolled, evaluation.wave or 0, repr(evaluation))
