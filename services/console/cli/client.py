"""The REST client: one requests session with the bearer token; every error becomes `ApiFailure`."""

from __future__ import annotations

from typing import Any

import requests

from .config import Target

TIMEOUT = 30.0


class ApiFailure(Exception):
    """The API answered an error ({"error": {"code", "message"}}), or could not be reached."""

    def __init__(self, status: int | None, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @property
    def route_missing(self) -> bool:
        """A 404 for the route itself (an older server), not for the thing asked about."""
        return self.status == 404 and self.code == "NOT_FOUND"


class Client:
    def __init__(self, target: Target):
        self.url = target.url
        self.session = requests.Session()
        if target.token:
            self.session.headers["Authorization"] = f"Bearer {target.token}"

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> requests.Response:
        try:
            response = self.session.request(method, self.url + path, params=params, json=json, timeout=TIMEOUT)
        except requests.RequestException as error:
            reason = f"cannot reach {self.url} ({error.__class__.__name__})"
            raise ApiFailure(None, "CONNECTION_FAILED", reason) from None
        if response.status_code >= 400:
            raise _failure(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body).json()


def _failure(response: requests.Response) -> ApiFailure:
    try:
        error = response.json()["error"]
        return ApiFailure(response.status_code, error["code"], error["message"])
    except (ValueError, KeyError, TypeError):
        return ApiFailure(response.status_code, f"HTTP_{response.status_code}", response.text[:200] or response.reason)
