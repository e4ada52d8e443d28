from datetime import timedelta

import pytest

from shared.domain.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("12h", timedelta(hours=12)),
        ("30d", timedelta(days=30)),
        (" 1d ", timedelta(days=1)),
    ],
)
def test_a_number_and_a_unit_is_a_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "1w", "-1d", "1.5h", "0s", "3651d", "1d2h", "99999999d"])
def test_anything_else_is_refused_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
