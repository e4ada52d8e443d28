"""The migrations and shared/db/tables.py describe one schema: a fresh database migrated to the newest
revision has exactly the tables, columns, indexes and constraints the code declares, and every migration
can be undone and done again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from support import own_database

from shared.db.migrate import alembic_config, upgrade
from shared.db.tables import metadata


@pytest.fixture()
def fresh_url(servers) -> Iterator[str]:
    yield own_database(servers.database_url, "drwave_migrations")


def schema_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def test_a_freshly_migrated_database_has_exactly_the_schema_the_tables_module_declares(fresh_url):
    upgrade(fresh_url)

    assert schema_differences(fresh_url) == []


def test_every_migration_can_be_undone_and_redone_to_the_same_schema(fresh_url):
    upgrade(fresh_url)
    command.downgrade(alembic_config(fresh_url), "base")
    assert schema_differences(fresh_url) != []  # undone: the declared tables are gone

    upgrade(fresh_url)

    assert schema_differences(fresh_url) == []
