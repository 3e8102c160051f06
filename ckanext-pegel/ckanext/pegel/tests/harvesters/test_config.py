"""The configuration of a PEGELONLINE harvest source is checked when the source is saved, with German errors."""
import json

import pytest

from ckan.logic import ValidationError
from ckan.tests import factories, helpers

from ckanext.pegel.tests.harvesters.feed import KOBLENZ


def save_source(config):
    sysadmin, org = factories.Sysadmin(), factories.Organization(name="landkreis-kusel")
    return helpers.call_action("harvest_source_create", {"user": sysadmin["name"]}, name="pegelonline",
                               title="PEGELONLINE", url="https://www.pegelonline.wsv.de/webservices/rest-api/v2",
                               source_type="pegelonline", owner_org=org["id"], config=config)


def config_error(config):
    with pytest.raises(ValidationError) as error:
        save_source(config)
    [message] = error.value.error_dict["config"]
    return message


@pytest.mark.usefixtures("clean_db", "with_request_context")
class TestSourceConfig:
    def test_a_valid_configuration_is_stored_normalised(self):
        source = save_source(json.dumps({"waters": "mosel, Rhein", "stations": [KOBLENZ.upper()],
                                         "owner": "landkreis-kusel"}))

        assert json.loads(source["config"]) == {"waters": ["MOSEL", "RHEIN"], "stations": [KOBLENZ],
                                                "owner": "landkreis-kusel"}

    def test_an_empty_configuration_is_valid(self):
        """All stations, owned by the source's organisation, with the site's timeout."""
        assert json.loads(save_source("")["config"]) == {}

    @pytest.mark.parametrize("config, german", [
        ("waters: RHEIN", "Die Konfiguration ist kein gültiges JSON"),
        ('["RHEIN"]', "Die Konfiguration muss ein JSON-Objekt sein"),
        ('{"water": ["RHEIN"]}', 'Unbekannte Einstellung "water"; erlaubt sind: waters, stations, owner, timeout'),
        ('{"waters": [1, 2]}', "„waters“ muss eine Liste von Namen sein"),
        ('{"stations": ["KOBLENZ"]}', "„stations“ ist eine Liste von Pegel-UUIDs aus PEGELONLINE; keine UUID: KOBLENZ"),
        ('{"owner": "landkreis-nirgendwo"}', "Es gibt keine Kommune (Organisation) „landkreis-nirgendwo“"),
        ('{"owner": 7}', "„owner“ ist der Name einer Kommune (Organisation) oder „by_location“"),
        ('{"timeout": 0}', "„timeout“ ist eine Anzahl Sekunden zwischen 1 und 300"),
    ], ids=["yaml", "list", "unknown-key", "waters", "stations", "owner", "owner-type", "timeout"])
    def test_a_wrong_configuration_is_refused_in_german(self, config, german):
        assert german in config_error(config)
