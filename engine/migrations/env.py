"""Alembic environment: the engine comes from engine.migrate (or sqlalchemy.url for the alembic CLI)."""
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from engine.migrate import include_object
from engine.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # the alembic command line: DUBAN_DATABASE_URL, else alembic.ini's URL
        section = config.get_section(config.config_ini_section, {})
        if os.environ.get("DUBAN_DATABASE_URL"):
            section["sqlalchemy.url"] = os.environ["DUBAN_DATABASE_URL"]
        engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                          include_object=include_object(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
