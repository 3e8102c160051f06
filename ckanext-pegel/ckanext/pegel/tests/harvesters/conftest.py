"""Fixtures of the harvester tests (defined in feed.py, which the poller tests use as well)."""
import pytest
import sqlalchemy as sa

from ckanext.pegel.tests.harvesters.feed import feed, municipalities, pegelonline_fixtures  # noqa: F401


@pytest.fixture(autouse=True)
def no_series_tables_left():
    """Drop the DataStore tables a test's harvests created: clean_db forgets their resources, the tables
    would pile up (thousands of them make a later DROP of all tables in one transaction run out of locks).
    One transaction per table for the same reason."""
    yield
    from ckanext.datastore.backend.postgres import get_write_engine

    engine = get_write_engine()
    with engine.connect() as connection:
        names = [name for (name,) in connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
    for name in names:
        with engine.begin() as connection:
            connection.execute(sa.text('DROP TABLE IF EXISTS "{}" CASCADE'.format(name.replace('"', '""'))))
