"""The migrations build exactly the schema engine/models.py declares (tables, columns, indexes)."""
from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from engine.models import Base


def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            # SQLite cannot reflect expression indexes: alembic says so and skips them there.
            warnings.simplefilter("ignore")
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            names = {index["name"] for index in inspect(connection).get_indexes("item_units")}
            if connection.dialect.name == "postgresql":
                assert "ix_item_units_open_deadline" in names
    finally:
        engine.dispose()
