"""The next look-up of a long operation: sparse early, tight near the expected end, backing off after."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.polling import next_poll


def test_an_operation_of_a_known_kind_is_not_looked_at_again_before_its_expected_end_nears():
    assert next_poll(elapsed=0, expected=20, interval=15) == 15
    assert next_poll(elapsed=10, expected=20, interval=15) == 6  # wakes at 16 s, 80% of the expectation


def test_near_the_expected_end_it_is_looked_at_every_tight_seconds():
    assert next_poll(elapsed=16, expected=20, interval=15) == 1
    assert next_poll(elapsed=25, expected=20, interval=15) == 1


def test_an_operation_far_past_its_expected_end_is_looked_at_less_and_less_often():
    assert next_poll(elapsed=60, expected=20, interval=15) == 4
    assert next_poll(elapsed=120, expected=20, interval=15) == 10
    assert next_poll(elapsed=500, expected=20, interval=15) == 15


def test_with_nothing_learned_the_wait_grows_with_the_time_running():
    waits = [next_poll(elapsed=t, expected=None, interval=15) for t in (0, 8, 20, 40, 100)]
    assert waits == [1, 2, 5, 10, 15]


@given(
    elapsed=st.floats(min_value=0, max_value=1e6),
    expected=st.one_of(st.none(), st.floats(min_value=0, max_value=1e5)),
    interval=st.floats(min_value=0.1, max_value=600),
)
def test_the_wait_is_never_longer_than_the_interval_nor_shorter_than_the_tight_wait(elapsed, expected, interval):
    wait = next_poll(elapsed, expected, interval)
    assert min(1.0, interval) <= wait <= interval
