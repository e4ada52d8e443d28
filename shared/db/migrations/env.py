"""Alembic environment: the URL comes from the caller (`shared.db.migrate.upgrade`), never a file."""

from alembic import context

from shared.db.tables import metadata

config = context.config
connectable = config.attributes.get("connection")


def run() -> None:
    if connectable is None:
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run_with(connection)
        engine.dispose()
    else:
        _run_with(connectable)


def _run_with(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
