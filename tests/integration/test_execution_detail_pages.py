"""GET /v1/executions/{id} pages its resource runs on request (`resourcesLimit`, `resourcesCursor`), so a
10,000-resource execution answers quickly; without them every run is listed, as before."""

from __future__ import annotations

import uuid

from support import insert_execution, sim

from shared.domain.states import ExecutionStatus
from shared.store import executions, plans


def _execution(db) -> str:
    """An execution already finished (so no scheduler moves its runs) with two waves of three runs."""
    with db.engine.begin() as conn:
        plan = plans.create(conn, name=f"pages {uuid.uuid4().hex[:8]}", description=None, waves=[], created_by="t")
        waves = {1: [sim(f"a{n}") for n in range(3)], 2: [sim(f"b{n}") for n in range(3)]}
        row = insert_execution(conn, plan, waves)
        executions.move(conn, row.id, ExecutionStatus.PENDING, ExecutionStatus.FAILED, actor="test", message="t")
        return row.id


def _arns(body) -> list[str]:
    return [run["arn"] for wave in body["waves"] for run in wave["resources"]]


def test_without_a_limit_every_resource_run_is_listed_and_there_is_no_next_page(client, admin, db):
    body = client.get(f"/v1/executions/{_execution(db)}", headers=admin).get_json()

    assert len(_arns(body)) == 6
    assert body["nextResourcesCursor"] is None
    assert body["counts"] == {"PENDING": 6}


def test_pages_of_resource_runs_follow_each_other_and_counts_stay_the_whole_executions(client, admin, db):
    execution_id = _execution(db)
    everything = _arns(client.get(f"/v1/executions/{execution_id}", headers=admin).get_json())

    first = client.get(f"/v1/executions/{execution_id}?resourcesLimit=4", headers=admin).get_json()
    cursor = first["nextResourcesCursor"]
    second = client.get(
        f"/v1/executions/{execution_id}?resourcesLimit=4&resourcesCursor={cursor}", headers=admin
    ).get_json()

    assert _arns(first) + _arns(second) == everything
    assert [len(w["resources"]) for w in first["waves"]] == [3, 1]
    assert second["nextResourcesCursor"] is None
    assert [w["counts"] for w in second["waves"]] == [{"PENDING": 3}, {"PENDING": 3}]
    assert second["counts"] == {"PENDING": 6}


def test_a_bad_resources_cursor_or_limit_is_a_400_naming_the_field(client, admin, db):
    execution_id = _execution(db)

    bad_cursor = client.get(f"/v1/executions/{execution_id}?resourcesCursor=nope", headers=admin)
    bad_limit = client.get(f"/v1/executions/{execution_id}?resourcesLimit=0", headers=admin)

    assert bad_cursor.status_code == 400
    assert bad_cursor.get_json()["error"]["code"] == "INVALID_CURSOR"
    assert "resourcesCursor" in bad_cursor.get_json()["error"]["message"]
    assert bad_limit.status_code == 400
    assert "resourcesLimit" in str(bad_limit.get_json()["error"])
