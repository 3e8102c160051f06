import pytest

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk


@pytest.mark.usefixtures("with_plugins")
def test_plugin_loads_and_declares_the_tenants_file():
    assert plugins.plugin_loaded("tenant")
    assert tk.config.get("ckanext.tenant.tenants_file") == "config/tenants.yaml"
