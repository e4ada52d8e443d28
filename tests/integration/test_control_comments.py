"""POST /v1/executions/{id}/pause and /cancel take an optional `{"comment"}`: on the timeline event with the
actor; a bad one is a 400 naming the field (the body stays optional: see the consoles' tests)."""

from __future__ import annotations

import pytest
from support import TERMINAL, create_plan, sim, start, wait_for


def test_pause_and_cancel_record_their_comment_on_the_timeline_event_with_the_actor(client, admin, token_for):
    operator = token_for("operator")
    me = client.get("/v1/me", headers=operator).get_json()
    waves = [
        {"name": "db", "arns": [sim("db", ms=3000)]},
        {"name": "app", "arns": [sim("app", ms=3000)]},
        {"name": "web", "arns": [sim("web")]},
    ]
    execution_id = start(client, admin, create_plan(client, admin, waves))
    wait_for(client, admin, execution_id, {"RUNNING"})

    comment = {"comment": "hold for the db team"}
    paused = client.post(f"/v1/executions/{execution_id}/pause", json=comment, headers=operator)
    assert paused.status_code == 200, paused.get_json()
    wait_for(client, admin, execution_id, {"PAUSED"})
    cancelled = client.post(f"/v1/executions/{execution_id}/cancel", json={"comment": "called off"}, headers=operator)
    assert cancelled.status_code == 200, cancelled.get_json()
    wait_for(client, admin, execution_id, TERMINAL)

    events = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    by_kind = {event["kind"]: event for event in events}
    actor = f"{me['name']} ({me['role']})"
    pause, cancel = by_kind["execution.pause_requested"], by_kind["execution.cancelling"]
    assert (pause["actor"], pause["detail"]) == (actor, {"comment": "hold for the db team"})
    assert (cancel["actor"], cancel["detail"]) == (actor, {"comment": "called off"})
    assert cancel["message"] == f'Cancel requested by {actor} — "called off"'


@pytest.mark.parametrize("action", ["pause", "cancel"])
@pytest.mark.parametrize(
    "body, problem",
    [({"comment": "x" * 2001}, "at most 2000 characters"), ({"comment": "a\x00b"}, "NUL"), ({"force": True}, "")],
)
def test_a_bad_pause_or_cancel_body_is_a_400_naming_the_field(client, admin, action, body, problem):
    response = client.post(f"/v1/executions/ex-none/{action}", json=body, headers=admin)  # checked before the lookup
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    field = next(iter(body))
    assert error["code"] == "INVALID_REQUEST" and error["message"].startswith(f"{field}: ")
    assert problem in error["message"]
