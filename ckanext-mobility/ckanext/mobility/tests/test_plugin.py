import pytest

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk


@pytest.mark.usefixtures("with_plugins")
def test_plugin_loads_with_a_typed_poll_interval():
    assert plugins.plugin_loaded("mobility")
    assert tk.config.get("ckanext.mobility.poll_interval") == 60


@pytest.mark.ckan_config("ckanext.mobility.poll_interval", "15")
@pytest.mark.usefixtures("with_plugins")
def test_poll_interval_from_the_config_is_an_int():
    assert tk.config.get("ckanext.mobility.poll_interval") == 15
