"""Notifications through the outbox and the notifier process: a signed webhook to a local receiver that
fails some first attempts, the on-call events (approval.expired, rto.at_risk), Slack for a real gate, a
delivery given up after its retry window, SNS and EventBridge on the local AWS read back through SQS,
subscriptions' rules and target checks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest
from sqlalchemy import text
from support import TERMINAL, create_plan, own_stack_config, sim, start, wait_for, wait_until
from webhook_receiver import Receiver

from services.stack import Stack

REGION = "us-east-1"
ARRIVAL = 90.0  # seconds an event may take to reach its receiver


@pytest.fixture(scope="module")
def private_client(stack):
    """An API that allows internal webhook targets, as DRWAVE_WEBHOOK_ALLOW_PRIVATE=true does."""
    from services.api.app import create_app
    from services.api.settings import ApiSettings

    app = create_app(
        ApiSettings(database_url=stack.database_url, redis_url=stack.redis_url, webhook_allow_private=True)
    )
    return app.test_client()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    hook = Receiver(fail_first={"wave.started", "execution.paused"})
    yield hook
    hook.close()


def subscribe(client, headers, **body) -> dict:
    response = client.post("/v1/subscriptions", json={"name": "test", "events": ["*"], **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_signed_webhook_receives_each_event_of_a_drill_once_in_order_after_retries(private_client, admin, receiver):
    client = private_client
    failing = sim("app-broken", fail=True)
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db")]},
            {"name": "app", "arns": [sim("app"), failing], "pauseBeforeWave": True},
        ],
    )
    subscription = subscribe(client, admin, kind="webhook", target=receiver.url, planIds=[plan])
    assert subscription["secret"].startswith("whsec_")
    receiver.secret = subscription["secret"]
    assert "secret" not in client.get(f"/v1/subscriptions/{subscription['id']}", headers=admin).get_json()

    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    paused = wait_until(lambda: receiver.first("execution.paused"), "paused event", ARRIVAL)
    assert client.post(f"/v1/executions/{execution_id}/resume", headers=admin).status_code == 200
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED_WITH_FAILURES"
    finished = wait_until(lambda: receiver.first("execution.finished"), "finished event", ARRIVAL)

    assert [e["type"] for e in receiver.accepted] == [
        "execution.started",
        "wave.started",
        "wave.finished",
        "execution.paused",
        "approval.granted",
        "execution.resumed",
        "wave.started",
        "resource.failed",
        "wave.finished",
        "execution.finished",
    ]
    assert all(r["verified"] for r in receiver.requests)
    ids = [e["id"] for e in receiver.accepted]
    assert len(set(ids)) == len(ids)  # each event accepted once
    refused = [r for r in receiver.requests if r["status"] == 500]
    assert {r["type"] for r in refused} == {"wave.started", "execution.paused"}
    assert {r["id"] for r in refused} <= set(ids)  # the retry carried the same webhook-id

    assert paused["data"]["executionId"] == execution_id
    assert paused["data"]["wave"]["number"] == 2
    assert paused["data"]["approvalsRequired"] == 1
    assert paused["data"]["approveCall"] == f"POST /v1/executions/{execution_id}/approve"
    assert paused["data"]["approveCommand"].endswith(f'drwave exec approve {execution_id} --comment "..."')
    assert paused["data"]["message"].startswith("Paused before wave 2")
    assert finished["data"]["status"] == "COMPLETED_WITH_FAILURES"
    assert finished["data"]["counts"] == {"SUCCEEDED": 2, "FAILED": 1}
    assert "rtoMet" in finished["data"]
    failed = next(e for e in receiver.accepted if e["type"] == "resource.failed")
    assert failed["data"]["arn"] == failing

    deliveries = client.get(f"/v1/subscriptions/{subscription['id']}/deliveries", headers=admin).get_json()["items"]
    assert {d["status"] for d in deliveries} == {"delivered"}
    attempts = {d["eventId"]: d["attempts"] for d in deliveries}
    assert {attempts[r["id"]] for r in refused} == {2}


def test_the_test_endpoint_sends_a_signed_test_event_at_once(private_client, admin, receiver):
    subscription = subscribe(private_client, admin, kind="webhook", target=receiver.url)
    receiver.secret = subscription["secret"]
    response = private_client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["delivery"]["status"] == "delivered"
    assert [e["type"] for e in receiver.accepted] == ["test"]
    assert receiver.requests[0]["verified"]
    private_client.delete(f"/v1/subscriptions/{subscription['id']}", headers=admin)


def test_a_test_event_to_a_slow_receiver_is_sent_once_the_notifier_leaves_it_to_the_api(
    private_client, admin, receiver
):
    subscription = subscribe(private_client, admin, kind="webhook", target=receiver.url)
    receiver.secret, receiver.delay = subscription["secret"], 3.0  # the notifier passes every second meanwhile

    response = private_client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=admin)

    assert response.get_json()["delivery"]["status"] == "delivered", response.get_json()
    time.sleep(3.0)  # a second send would have reached the receiver by now
    assert [r["type"] for r in receiver.requests] == ["test"]
    private_client.delete(f"/v1/subscriptions/{subscription['id']}", headers=admin)


def test_a_slack_subscription_posts_text_and_blocks(private_client, admin, receiver):
    subscription = subscribe(private_client, admin, kind="slack", target=receiver.url, events=["execution.paused"])
    assert subscription["secret"] is None
    response = private_client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=admin)
    assert response.status_code == 200, response.get_json()
    [message] = receiver.accepted
    assert message["text"].startswith(f"Test notification for subscription {subscription['id']}")
    assert message["blocks"][0]["text"]["text"] == message["text"]
    private_client.delete(f"/v1/subscriptions/{subscription['id']}", headers=admin)


def test_a_slack_subscription_gets_the_gate_of_a_real_drill_with_the_approve_command(private_client, admin, receiver):
    client = private_client
    plan = create_plan(
        client,
        admin,
        [{"name": "db", "arns": [sim("db")]}, {"name": "app", "arns": [sim("app")], "pauseBeforeWave": True}],
    )
    subscribe(client, admin, kind="slack", target=receiver.url, events=["execution.paused"], planIds=[plan])
    execution_id = start(client, admin, plan)

    [message] = wait_until(lambda: list(receiver.accepted), "the Slack message of the gate", ARRIVAL)

    command = f'drwave exec approve {execution_id} --comment "..."'
    assert message["text"].startswith("Paused before wave 2")
    assert command in message["text"]  # a client that shows only the text still says how to approve
    assert message["blocks"][0]["text"]["text"] == message["text"].split("\n")[0]
    assert command in message["blocks"][1]["text"]["text"]
    assert execution_id in message["blocks"][2]["elements"][0]["text"]
    assert client.post(f"/v1/executions/{execution_id}/cancel", headers=admin).status_code == 200
    wait_for(client, admin, execution_id, TERMINAL)


@pytest.mark.parametrize("on_timeout", ["stay-paused", "abort"])
def test_an_approval_past_its_timeout_is_notified_signed_and_abort_ends_the_execution_cancelled(
    private_client, admin, receiver, on_timeout
):
    client = private_client
    plan = create_plan(
        client,
        admin,
        [{"name": "db", "arns": [sim("db")]}, {"name": "app", "arns": [sim("app")], "pauseBeforeWave": True}],
        approvals={"timeoutSeconds": 1, "onTimeout": on_timeout},
    )
    subscription = subscribe(
        client,
        admin,
        kind="webhook",
        target=receiver.url,
        events=["approval.expired", "execution.finished"],
        planIds=[plan],
    )
    receiver.secret = subscription["secret"]
    execution_id = start(client, admin, plan)

    expired = wait_until(lambda: receiver.first("approval.expired"), "the approval.expired event", ARRIVAL)

    assert all(r["verified"] for r in receiver.requests)
    data = expired["data"]
    assert (data["executionId"], data["wave"]["number"], data["onTimeout"]) == (execution_id, 2, on_timeout)
    assert data["message"].startswith("approval for wave 2 timed out")
    if on_timeout == "abort":
        finished = wait_until(lambda: receiver.first("execution.finished"), "the execution.finished event", ARRIVAL)
        assert finished["data"]["status"] == "CANCELLED"
        assert finished["data"]["statusReason"] == "approval for wave 2 timed out"
        assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "CANCELLED"
    else:
        assert client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()["status"] == "PAUSED"
        client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
        wait_for(client, admin, execution_id, TERMINAL)
    assert [e["type"] for e in receiver.accepted].count("approval.expired") == 1


def test_a_wave_past_its_rto_target_is_notified_once_and_reported_as_missed_beside_a_wave_that_met_it(
    private_client, admin, receiver, db
):
    client = private_client
    plan = create_plan(
        client, admin, [{"name": "db", "arns": [sim("db-slow", 20000)]}, {"name": "app", "arns": [sim("app")]}]
    )
    subscription = subscribe(
        client, admin, kind="webhook", target=receiver.url, events=["rto.at_risk", "execution.finished"], planIds=[plan]
    )
    receiver.secret = subscription["secret"]
    execution_id = start(client, admin, plan)

    def wave_one_started() -> bool:
        execution = client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()
        return execution["waves"][0]["status"] != "PENDING"

    wait_until(wave_one_started, "wave 1 starting")
    # An RTO target comes from dr:priority tags (15 minutes at least) and explicit ARNs carry none: give both
    # waves a 1-minute target and move wave 1's start (and the execution's) 5 minutes back, as if it had run
    # that long; the reconciler then sees a RUNNING wave past its target, as it would after 15 real minutes.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE wave_runs SET rto_target_minutes = 1 WHERE execution_id = :id"), {"id": execution_id})
        moved = conn.execute(
            text(
                "UPDATE wave_runs SET started_at = started_at - interval '5 minutes'"
                " WHERE execution_id = :id AND number = 1 AND status = 'RUNNING'"
            ),
            {"id": execution_id},
        ).rowcount
        conn.execute(
            text("UPDATE executions SET started_at = started_at - interval '5 minutes' WHERE id = :id"),
            {"id": execution_id},
        )
    assert moved == 1, "wave 1 finished before its start could be moved back (its resource takes 20 s)"

    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"
    finished = wait_until(lambda: receiver.first("execution.finished"), "the execution.finished event", ARRIVAL)

    assert [e["type"] for e in receiver.accepted] == ["rto.at_risk", "execution.finished"]  # flagged once
    at_risk = receiver.accepted[0]["data"]
    assert (at_risk["executionId"], at_risk["wave"]["number"], at_risk["rtoTargetMinutes"]) == (execution_id, 1, 1)
    assert at_risk["message"] == "Wave 1 'db' is past its RTO target of 1 min"
    assert finished["data"]["rtoMet"] is False and finished["data"]["rto"]["met"] is False
    report = client.get(f"/v1/executions/{execution_id}/report", headers=admin).get_json()
    assert [(w["number"], w["rtoTargetMinutes"], w["rtoMet"]) for w in report["waves"]] == [(1, 1, False), (2, 1, True)]
    assert (report["rto"]["targetMinutes"], report["rto"]["met"]) == (2, False)
    timeline = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    assert [(e["kind"], e["actor"]) for e in timeline if e["kind"] == "rto.at_risk"] == [("rto.at_risk", "reconciler")]


GIVE_UP_SECONDS = 5.0  # the retry window of the impatient notifier (DRWAVE_NOTIFY_RETRY_HOURS)
GIVE_UP_REDIS_DB = 6  # its broker: its tasks must not reach the session's notifier, nor the session's its own


@pytest.fixture(scope="module")
def impatient(servers, tmp_path_factory) -> Iterator[tuple[object, dict[str, str]]]:
    """(API client, admin headers) on a notifier of their own (database and Redis database) whose retry
    window is a few seconds, so a delivery is given up while the test watches."""
    from services.api.app import create_app
    from services.api.settings import ApiSettings
    from shared.db.engine import Database
    from shared.db.migrate import upgrade
    from shared.domain.roles import Role
    from shared.store import tokens

    notifier = Stack(
        own_stack_config(
            servers,
            tmp_path_factory.mktemp("drwave-give-up"),
            "give_up",
            GIVE_UP_REDIS_DB,
            api=False,
            workers=0,
            env={
                "DRWAVE_WEBHOOK_ALLOW_PRIVATE": "true",
                "DRWAVE_NOTIFY_RETRY_HOURS": str(GIVE_UP_SECONDS / 3600),
                "DRWAVE_NOTIFY_POLL_INTERVAL": "0.3",
                "DRWAVE_NOTIFY_BACKOFF_BASE": "0.5",
                "DRWAVE_NOTIFY_BACKOFF_CAP": "1",
                "DRWAVE_NOTIFIER_CONCURRENCY": "1",
            },
        )
    )
    try:
        notifier.start_servers()
        upgrade(notifier.database_url)
        notifier.start_notifier()
        notifier.wait_for_workers(1)
        app = create_app(
            ApiSettings(database_url=notifier.database_url, redis_url=notifier.redis_url, webhook_allow_private=True)
        )
        database = Database(notifier.database_url)
        with database.engine.begin() as conn:
            token = tokens.create(conn, "give-up-admin", Role.ADMIN)
        database.dispose()
        yield app.test_client(), {"Authorization": f"Bearer {token}"}
    finally:
        notifier.stop()


def test_a_delivery_refused_past_its_retry_window_is_failed_and_never_sent_again(impatient):
    client, admin = impatient
    receiver = Receiver()
    try:
        receiver.refuse_all = True
        subscription = subscribe(client, admin, kind="webhook", target=receiver.url)
        receiver.secret = subscription["secret"]
        deliveries_url = f"/v1/subscriptions/{subscription['id']}/deliveries"
        sent = client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=admin)
        assert sent.get_json()["delivery"]["status"] == "pending", sent.get_json()  # the API's attempt was refused

        def given_up():
            [delivery] = client.get(deliveries_url, headers=admin).get_json()["items"]
            return delivery if delivery["status"] == "failed" else None

        failed = wait_until(given_up, "the delivery given up", ARRIVAL)
        receiver.refuse_all = False  # the receiver is back
        attempts = len(receiver.requests)
        assert failed["attempts"] == attempts >= 2  # the API's attempt and the notifier's retries, each counted
        assert {r["status"] for r in receiver.requests} == {500}
        assert all(r["verified"] and r["id"] == failed["eventId"] for r in receiver.requests)
        assert (failed["lastStatusCode"], failed["lastError"]) == (500, "HTTP 500: down for maintenance")
        assert failed["deliveredAt"] is None

        time.sleep(3.0)  # several notifier passes and more than the longest backoff (1 s)
        assert len(receiver.requests) == attempts and receiver.accepted == []
        [still] = client.get(deliveries_url, headers=admin).get_json()["items"]
        assert (still["status"], still["attempts"]) == ("failed", attempts)
    finally:
        receiver.close()


def test_sns_and_eventbridge_subscriptions_publish_to_the_local_aws(client, admin, local_aws):
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    queues = {}
    for name in ("drwave-sns", "drwave-eb"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[name] = (url, arn)
    topic = sns.create_topic(Name="drwave-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queues["drwave-sns"][1])
    events.create_event_bus(Name="drwave-bus")
    events.put_rule(Name="drwave-all", EventBusName="drwave-bus", EventPattern=json.dumps({"source": ["drwave"]}))
    events.put_targets(
        Rule="drwave-all", EventBusName="drwave-bus", Targets=[{"Id": "q", "Arn": queues["drwave-eb"][1]}]
    )

    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    subscribe(client, admin, kind="sns", target=topic, events=["execution.finished"], planIds=[plan])
    subscribe(client, admin, kind="eventbridge", target="drwave-bus", events=["execution.finished"], planIds=[plan])
    execution_id = start(client, admin, plan)
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"

    def receive(name):
        messages = sqs.receive_message(QueueUrl=queues[name][0], MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return messages.get("Messages")

    [sns_message] = wait_until(lambda: receive("drwave-sns"), what="the SNS message in SQS", timeout=ARRIVAL)
    notification = json.loads(sns_message["Body"])
    assert notification["MessageAttributes"]["eventType"]["Value"] == "execution.finished"
    assert notification["MessageAttributes"]["executionId"]["Value"] == execution_id
    assert json.loads(notification["Message"])["data"]["status"] == "COMPLETED"

    [eb_message] = wait_until(lambda: receive("drwave-eb"), what="the EventBridge event in SQS", timeout=ARRIVAL)
    event = json.loads(eb_message["Body"])
    assert (event["source"], event["detail-type"]) == ("drwave", "execution.finished")
    assert event["detail"]["data"]["executionId"] == execution_id


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/x", "http://[::1]/x"],
)
def test_internal_webhook_targets_are_refused_unless_allowed(client, admin, target):
    response = client.post(
        "/v1/subscriptions", json={"name": "x", "kind": "webhook", "target": target, "events": ["*"]}, headers=admin
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_TARGET"
    assert response.get_json()["error"]["details"]["field"] == "target"


def test_subscriptions_are_written_by_admins_and_recovery_managers_and_read_by_everyone(private_client, token_for):
    body = {"name": "chat", "kind": "slack", "target": "http://127.0.0.1:9/slack", "events": ["execution.paused"]}
    for role in ("operator", "plan-manager", "read-only"):
        assert private_client.post("/v1/subscriptions", json=body, headers=token_for(role)).status_code == 403
    created = private_client.post("/v1/subscriptions", json=body, headers=token_for("recovery-manager"))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["secret"] is None  # only webhooks are signed
    sub_id = created.get_json()["id"]
    listed = private_client.get("/v1/subscriptions", headers=token_for("read-only")).get_json()["items"]
    assert sub_id in [s["id"] for s in listed]
    changed = private_client.put(
        f"/v1/subscriptions/{sub_id}", json={**body, "events": ["*"]}, headers=token_for("admin")
    )
    assert changed.status_code == 200 and changed.get_json()["events"] == ["*"]
    unknown = private_client.post(
        "/v1/subscriptions", json={**body, "events": ["execution.exploded"]}, headers=token_for("admin")
    )
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["details"]["errors"][0]["field"] == "events"
    assert private_client.delete(f"/v1/subscriptions/{sub_id}", headers=token_for("admin")).status_code == 200
    assert private_client.get(f"/v1/subscriptions/{sub_id}", headers=token_for("admin")).status_code == 404
