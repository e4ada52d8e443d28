"""Adapters by name. Each factory takes the worker's dependencies (``sessions``: the worker's one boto3
session factory, ``settings``) and returns an adapter; nothing builds a client at import time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Adapter

AdapterFactory = Callable[..., Adapter]
_FACTORIES: dict[str, AdapterFactory] = {}


def register(name: str) -> Callable[[AdapterFactory], AdapterFactory]:
    def decorate(factory: AdapterFactory) -> AdapterFactory:
        _FACTORIES[name] = factory
        return factory

    return decorate


def names() -> list[str]:
    _load_builtin()
    return sorted(_FACTORIES)


def build_all(**dependencies: Any) -> dict[str, Adapter]:
    _load_builtin()
    return {name: factory(**dependencies) for name, factory in _FACTORIES.items()}


def _load_builtin() -> None:
    """Import the built-in adapters; each registers itself under its name."""
    from . import actions, aurora, drs, ecs, lambda_fn, route53, simulated  # noqa: F401
