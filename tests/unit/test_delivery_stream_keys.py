"""The ordering key of a delivery: which events of one subscription wait for each other."""

from shared.store.deliveries import stream_of


def test_an_execution_event_is_ordered_with_its_execution_even_when_it_names_a_plan():
    assert stream_of(execution_id="ex-7", plan_id="plan-a", event_id="evt_1") == "execution:ex-7"


def test_a_plan_level_event_is_ordered_with_its_plan():
    assert stream_of(execution_id=None, plan_id="plan-a", event_id="evt_1") == "plan:plan-a"
    assert stream_of(execution_id=None, plan_id="plan-a", event_id="evt_2") == "plan:plan-a"


def test_an_event_of_no_execution_and_no_plan_is_on_its_own():
    assert stream_of(execution_id=None, plan_id=None, event_id="evt_1") == "event:evt_1"
