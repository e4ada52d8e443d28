"""Property-based test of the whole API with schemathesis: every operation of /openapi.json, with
requests generated from the documented schemas — valid ones and invalid ones — sent over HTTP to the
API under gunicorn. No answer may be a server error, and every answer must match the schema documented
for its status. Hypothesis runs derandomized (a fixed seed: the same cases every run) with a bounded
number of examples per operation and mode, so the run fits in `make test`."""

from __future__ import annotations

import uuid
from collections import Counter

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import FailureGroup

from shared.domain.roles import Role
from shared.store import tokens

EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 30}  # per operation
CHECKS = [not_a_server_error, response_schema_conformance]


class Fuzzer:
    """Sends the generated cases as an admin. DELETE /v1/tokens/{id} may revoke the fuzzer's own token
    (a valid request): it then carries on with a new one."""

    def __init__(self, api_url: str, db) -> None:
        self.api_url = api_url
        self.db = db
        self.session = requests.Session()
        self.statuses: Counter = Counter()
        self.token_id, self.headers = self._new_token()

    def _new_token(self) -> tuple[int, dict[str, str]]:
        with self.db.engine.begin() as conn:
            row, secret = tokens.issue(conn, f"fuzzer-{uuid.uuid4().hex[:6]}", Role.ADMIN)
        return row.id, {"Authorization": f"Bearer {secret}"}

    def send(self, case) -> None:
        response = case.call(base_url=self.api_url, session=self.session, headers=dict(self.headers), timeout=60)
        self.statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        revoked = case.operation.label == "DELETE /v1/tokens/{id}" and response.status_code == 200
        if revoked and response.json()["token"]["id"] == self.token_id:
            self.token_id, self.headers = self._new_token()

    def fuzz(self, operation, mode: GenerationMode) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            self.send(case)

        run()


def test_no_operation_answers_a_server_error_or_breaks_its_documented_schema(api_url, db):
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzer = Fuzzer(api_url, db)
    failures: list[str] = []
    for operation in operations:
        for mode in EXAMPLES:
            try:
                fuzzer.fuzz(operation, mode)
            except Unsatisfiable:  # an operation without parameters has no invalid input to send
                continue
            except (Exception, FailureGroup) as failure:  # collect every operation's failures, then report them all
                failures.append(f"{operation.label} ({mode.value}): {failure}"[:3000])
    total = sum(fuzzer.statuses.values())
    print(f"\nschemathesis: {total} requests, {len(operations)} operations, statuses {dict(fuzzer.statuses)}")
    assert len(operations) >= 30
    assert failures == [], "\n\n".join(failures)
