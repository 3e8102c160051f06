import pytest

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk


@pytest.mark.usefixtures("with_plugins")
def test_plugin_loads_and_declares_the_broker_url():
    assert plugins.plugin_loaded("pegel")
    assert tk.config.get("ckanext.pegel.mqtt_url") == "mqtt://127.0.0.1:1883"

