"""The isolation rules chain actions and auth functions of ckanext-harvest, the DataStore and the activity plugin;
CKAN refuses to start a chain whose original is missing, so the tenant plugin must also work without them."""
import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.tenant.logic import action, auth


@pytest.mark.ckan_config("ckan.plugins", "suedwest tenant dcat scheming_datasets scheming_organizations")
@pytest.mark.usefixtures("with_plugins")
def test_without_harvest_datastore_and_activity_plugins():
    assert not {"harvest_source_list", "datastore_search", "user_activity_list"} & set(action.get_actions())
    assert not {"harvest_object_show", "activity_show"} & set(auth.get_auth_functions())
    # Builds CKAN's registries of actions and auth functions, with the chains that are left.
    assert "results" in helpers.call_action("package_search", {"user": "", "ignore_auth": False})
    assert tk.get_action("member_create")


@pytest.mark.usefixtures("with_plugins")
def test_with_all_configured_plugins_every_rule_is_registered():
    assert set(action.get_actions()) == set(action.__all__)
    assert set(auth.get_auth_functions()) == set(auth.__all__)
