"""The one table from domain errors to HTTP: every domain error has a status and a code, and the
answer carries the error's own message and details."""

from __future__ import annotations

import pytest
from flask import Flask

from services.api.errors import DOMAIN_ERRORS, register_error_handlers, status_and_code
from shared.domain import errors as domain


def every_subclass(kind: type) -> list[type]:
    return [sub for direct in kind.__subclasses__() for sub in (direct, *every_subclass(direct))]


@pytest.mark.parametrize("kind", every_subclass(domain.DomainError), ids=lambda k: k.__name__)
def test_every_domain_error_that_can_be_raised_has_a_status_and_a_code(kind):
    abstract = {domain.NotFound, domain.ExecutionStateConflict, domain.InUse}
    if kind in abstract:
        assert any(issubclass(mapped, kind) for mapped in DOMAIN_ERRORS)
        return
    assert any(k in DOMAIN_ERRORS for k in kind.__mro__), f"{kind.__name__} is missing from DOMAIN_ERRORS"


def test_a_domain_error_is_answered_with_its_status_code_message_and_details():
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/resume")
    def resume():
        raise domain.ExecutionNotPaused("ex-1", "RUNNING")

    response = app.test_client().get("/resume")
    assert response.status_code == 409
    assert response.get_json() == {
        "error": {
            "code": "EXECUTION_NOT_PAUSED",
            "message": "cannot resume ex-1: it is RUNNING",
            "details": {"status": "RUNNING"},
        }
    }


def test_an_error_said_about_a_part_keeps_its_kind_and_adds_the_context():
    problem = domain.AwsRefused("AWS refused discovery", region="us-west-2").within("group pg-1: ", groupId="pg-1")
    assert status_and_code(problem) == (502, "AWS_ERROR")
    assert problem.message == "group pg-1: AWS refused discovery"
    assert problem.details == {"region": "us-west-2", "groupId": "pg-1"}


def test_an_error_about_a_field_starts_its_message_with_the_field_and_names_it_in_its_details():
    problem = domain.NoLaunchSettings("pg-1")
    assert problem.message == "launchSettings: protection group pg-1 has none; PUT the group with launchSettings first"
    assert problem.details == {"field": "launchSettings"}
    assert (domain.PlanNotFound("p-1").message, domain.PlanNotFound("p-1").details) == ("no recovery plan 'p-1'", {})
