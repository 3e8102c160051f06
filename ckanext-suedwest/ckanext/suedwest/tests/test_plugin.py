import pytest

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk


@pytest.mark.usefixtures("with_plugins")
def test_bundle_and_community_plugins_are_enabled():
    for name in ("scheming_datasets", "scheming_organizations", "dcat", "harvest", "spatial_metadata",
                 "spatial_query", "datastore", "activity", "suedwest", "tenant", "pegel", "mobility"):
        assert plugins.plugin_loaded(name), name
    assert tk.config.get("ckanext.suedwest.reference_dir") == "../shared/reference"


@pytest.mark.usefixtures("with_plugins")
def test_the_portal_speaks_german(app):
    response = app.get("/dataset/")

    assert '<html lang="de"' in response.body
    assert "Datensätze" in response.body
