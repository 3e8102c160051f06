"""The dcat_ap_de profile: what it adds to DCAT-AP 3, and that parsing its output gives every field back."""
import json

import pytest
import shapely.geometry
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from ckan.tests import factories, helpers
from ckanext.dcat.processors import RDFParser, RDFSerializer

from ckanext.suedwest.tests import factories as dcatde

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
KUSEL = "http://dcat-ap.de/def/politicalGeocoding/districtKey/07336"
MOSEL = {"type": "Polygon", "coordinates": [[[6.5, 49.6], [7.6, 49.6], [7.6, 50.4], [6.5, 50.4], [6.5, 49.6]]]}
GLAN = {"type": "Point", "coordinates": [7.4, 49.53]}

FULL = {
    "title": "Pegelstände am Glan „Kusel“",
    "notes": "Wasserstände des Glan.\nMesswerte alle 15 Minuten.",
    "theme": [dcatde.ENVI, "http://publications.europa.eu/resource/authority/data-theme/REGI"],
    "tag_string": "Hochwasser,Pegel",
    "license_id": dcatde.DL_BY,
    "license_attribution_by_text": "Landkreis Kusel, Umweltamt (2026)",
    "publisher": [{"name": "Kreisverwaltung Kusel", "uri": "https://www.landkreis-kusel.de/#verwaltung",
                   "type": "http://purl.org/adms/publishertype/LocalAuthority",
                   "email": "info@kv-kus.de", "url": "https://www.landkreis-kusel.de"}],
    "contact": [{"name": "Umweltamt", "email": "umwelt@kv-kus.de", "phone": "+4963814240"},
                {"name": "Leitstelle", "url": "https://www.landkreis-kusel.de/leitstelle"}],
    "contributor_id": "http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz",
    "political_geocoding_level_uri": "http://dcat-ap.de/def/politicalGeocoding/Level/administrativeDistrict",
    "political_geocoding_uri": [KUSEL],
    "spatial_coverage": [{"text": "Glan bei Kusel", "bbox": json.dumps(MOSEL), "centroid": json.dumps(GLAN)},
                         {"uri": "https://sws.geonames.org/2881889/", "text": "Kusel"}],
    "temporal_coverage": [{"start": "2020-01-01", "end": "2026-06-30"}],
    "frequency": "http://publications.europa.eu/resource/authority/frequency/CONT",
    "language": ["http://publications.europa.eu/resource/authority/language/DEU"],
    "issued": "2024-03-01",
    "modified": "2026-11-20",
    "identifier": "https://opendata.suedwest-cluster.de/id/pegel-glan",
    "url": "https://www.landkreis-kusel.de/pegel",
    "documentation": ["https://www.landkreis-kusel.de/pegel/doku"],
    "conforms_to": ["https://www.opengis.net/doc/IS/SensorThings/1.1"],
    "version": "1.2",
    "resources": [
        {"url": "https://example.org/glan.csv", "name": "Messwerte", "description": "CSV, UTF-8", "format": "CSV",
         "download_url": "https://example.org/glan.csv", "mimetype": "text/csv", "issued": "2024-03-01",
         "modified": "2026-11-20"},
        {"url": "https://example.org/glan.xlsx", "name": "Tabelle", "format": "XLSX"},
        {"url": "https://example.org/api", "name": "Schnittstelle", "format": "JSON",
         "license": "http://dcat-ap.de/def/licenses/cc-by/4.0", "license_attribution_by_text": "Umweltamt Kusel"},
    ],
}


def create(**fields):
    sysadmin = factories.Sysadmin()
    org = factories.Organization(title="Landkreis Kusel")
    return helpers.call_action("package_create", {"user": sysadmin["name"]}, name="pegel-glan", owner_org=org["id"],
                               **fields)


def serialise(dataset):
    return Graph().parse(data=RDFSerializer().serialize_dataset(dataset, _format="turtle"), format="turtle")


def parse(turtle_graph):
    parser = RDFParser()
    parser.g = turtle_graph
    return next(iter(parser.datasets()))


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestSerialisation:
    def test_german_properties(self):
        dataset = create(**FULL)
        graph = serialise(dataset)
        ref = next(graph.subjects(RDF.type, DCAT.Dataset))

        assert graph.value(ref, DCATDE.contributorID) == URIRef(FULL["contributor_id"])
        assert graph.value(ref, DCATDE.politicalGeocodingLevelURI) == URIRef(FULL["political_geocoding_level_uri"])
        assert graph.value(ref, DCATDE.politicalGeocodingURI) == URIRef(KUSEL)
        assert (ref, DCTERMS.spatial, URIRef(KUSEL)) in graph  # GovData's convention and 3.0, side by side
        assert (None, VCARD.hasTelephone, URIRef("tel:+4963814240")) in graph

    def test_distributions_carry_licence_attribution_and_file_type(self):
        dataset = create(**FULL)
        graph = serialise(dataset)
        by_title = {str(graph.value(d, DCTERMS.title)): d for d in graph.subjects(RDF.type, DCAT.Distribution)}

        csv, api = by_title["Messwerte"], by_title["Schnittstelle"]
        assert graph.value(csv, DCTERMS.license) == URIRef(dcatde.DL_BY)
        assert graph.value(csv, DCATDE.licenseAttributionByText) == Literal(FULL["license_attribution_by_text"])
        assert graph.value(csv, DCTERMS["format"]) == URIRef(
            "http://publications.europa.eu/resource/authority/file-type/CSV")
        assert graph.value(api, DCTERMS.license) == URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")
        assert graph.value(api, DCATDE.licenseAttributionByText) == Literal("Umweltamt Kusel")

    def test_organisation_is_the_publisher_when_none_is_given(self):
        dataset = create(**{"title": "Haushalt", "notes": "Haushaltsplan", "license_id": dcatde.DL_ZERO})
        graph = serialise(dataset)
        publisher = graph.value(next(graph.subjects(RDF.type, DCAT.Dataset)), DCTERMS.publisher)

        assert graph.value(publisher, FOAF.name) == Literal("Landkreis Kusel")
        assert graph.value(publisher, DCTERMS.type) == URIRef("http://purl.org/adms/publishertype/LocalAuthority")


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_parsing_our_serialisation_gives_every_schema_field_back():
    dataset = create(**FULL)

    parsed = parse(serialise(dataset))

    for field in ("title", "notes", "license_id", "license_attribution_by_text", "contributor_id",
                  "political_geocoding_level_uri", "political_geocoding_uri", "frequency", "identifier", "url",
                  "version", "documentation", "conforms_to"):
        assert parsed[field] == FULL[field], field
    for field in ("theme", "language"):
        assert sorted(parsed[field]) == sorted(FULL[field]), field
    assert sorted(tag["name"] for tag in parsed["tags"]) == ["Hochwasser", "Pegel"]
    assert parsed["issued"].startswith(FULL["issued"]) and parsed["modified"].startswith(FULL["modified"])
    assert [{k: v for k, v in p.items() if v} for p in parsed["publisher"]] == FULL["publisher"]
    assert sorted(({k: v for k, v in c.items() if v} for c in parsed["contact"]), key=lambda c: c["name"]) == sorted(
        FULL["contact"], key=lambda c: c["name"])
    assert parsed["temporal_coverage"] == FULL["temporal_coverage"]
    coverage = sorted(parsed["spatial_coverage"], key=lambda item: item["text"])
    assert [(c.get("uri", ""), c["text"]) for c in coverage] == [("", "Glan bei Kusel"),
                                                                ("https://sws.geonames.org/2881889/", "Kusel")]
    assert shapely.geometry.shape(json.loads(coverage[0]["bbox"])).equals(shapely.geometry.shape(MOSEL))
    assert json.loads(coverage[0]["centroid"]) == GLAN
    resources = sorted(parsed["resources"], key=lambda r: r["name"])
    for original, back in zip(sorted(FULL["resources"], key=lambda r: r["name"]), resources):
        for field, value in original.items():
            assert str(back.get(field, "")).startswith(value), (field, back.get(field))
    assert "_suedwest_unmapped" not in parsed
