"""A harvested station's dataset passes the DCAT-AP.de 3.0 shapes and GovData's conventions (pyshacl, offline),
as its own document and inside the catalog."""
import pytest

from ckanext.suedwest.tests.test_shacl import assert_conforms, serialise

from ckanext.pegel.tests.harvesters.feed import KOBLENZ, create_source, datasets, run

CONTRIBUTOR = "http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz"


@pytest.fixture
def koblenz(feed, municipalities):
    source = create_source(feed.url, {"stations": [KOBLENZ], "owner": "landkreis-mayen-koblenz"})
    run(source)
    return datasets()[KOBLENZ]


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_a_station_conforms_to_dcat_ap_de(koblenz, dcat_ap_de_shapes, shacl_vocabularies):
    assert_conforms(serialise(koblenz), dcat_ap_de_shapes, shacl_vocabularies)


@pytest.mark.ckan_config("ckanext.suedwest.default_contributor_id", CONTRIBUTOR)
@pytest.mark.usefixtures("clean_db", "clean_index")
def test_a_station_conforms_to_govdata_conventions(koblenz, govdata_conventions_shapes, shacl_vocabularies):
    assert_conforms(serialise(koblenz), govdata_conventions_shapes, shacl_vocabularies)
