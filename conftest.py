"""Test set-up shared by the four extensions (CKAN's pytest plugin comes from --ckan-ini=test.ini)."""
import pytest

pytest_plugins = ["ckanext.suedwest.tests.fixtures"]


@pytest.fixture
def clean_db(with_plugins, reset_db, migrate_db_for):
    """CKAN's clean_db with the configured plugins loaded, plus the tables of the plugins whose
    models live outside CKAN core (their migrations need the plugins loaded)."""
    reset_db()
    for plugin in ("activity", "harvest"):
        migrate_db_for(plugin)
