"""What the platform publishes passes the DCAT-AP.de shapes, validated offline with pyshacl.

Datasets are created through the action API and serialised with ckanext-dcat's RDFSerializer and the configured
profile (``dcat_ap_de``), as a single dataset (/dataset/<id>.ttl) and inside the catalog (/catalog.ttl, from the
search results as there). Each Turtle document is parsed back and validated against two shape sets, loaded once per
session (fixtures.py): the DCAT-AP.de 3.0 profile and GovData's conventions (Konventionen, on DCAT-AP.de 2.0).
Violations fail the test with their messages; warnings are allowed and their count is printed.
"""
import json
import time

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH, SKOS

import ckan.plugins.toolkit as tk
from ckan.logic import ValidationError
from ckan.tests import factories, helpers
from ckanext.dcat.processors import RDFSerializer
from ckanext.scheming.helpers import scheming_get_dataset_schema, scheming_get_preset

from ckanext.suedwest import licenses
from ckanext.suedwest.tests import shacl

EU = "http://publications.europa.eu/resource/authority/"
LICENSES = "http://dcat-ap.de/def/licenses/"
DL_ZERO = LICENSES + "dl-zero-de/2.0"
DL_BY = LICENSES + "dl-by-de/2.0"
CONTRIBUTOR = "http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz"
GEOCODING = "http://dcat-ap.de/def/politicalGeocoding/"

KUSEL = {"type": "Polygon", "coordinates": [[[7.19, 49.43], [7.62, 49.43], [7.62, 49.69], [7.19, 49.69], [7.19, 49.43]]]}
BITBURG_PRUEM = {"type": "Polygon", "coordinates": [[[6.13, 49.83], [6.68, 49.76], [6.84, 50.08], [6.44, 50.32],
                                                     [6.13, 49.83]]]}

# GovData's conventions K12/K13: every dataset MUST carry exactly one dcatde:contributorID from the dcat-ap.de list:
# the dataset's own (preset by the municipality) or the operator's ckanext.suedwest.default_contributor_id.
K12_13 = "http://dcat-ap.de/def/dcatde/Konv12_13_contributorID_v_List"
# GovData's conventions K01: a contact point MUST have an e-mail address or a web page (a phone is not enough).
K01 = "http://dcat-ap.de/def/dcatde/Konv01_hasEmail_hasURL_v_Min"


# Validation ---------------------------------------------------------------------------------------------------------


def serialise(dataset):
    """The dataset as its own document and inside the catalog (from package_search, like /catalog.ttl), both as
    Turtle parsed back into graphs, so that what is validated is what a harvester reads."""
    documents = {}
    started = time.perf_counter()
    turtle = RDFSerializer().serialize_dataset(dataset, _format="turtle")
    documents["dataset"] = Graph().parse(data=turtle, format="turtle")
    found = helpers.call_action("package_search", q=f'id:"{dataset["id"]}"')["results"]
    assert [result["id"] for result in found] == [dataset["id"]]
    turtle = RDFSerializer().serialize_catalog({}, found, _format="turtle")
    documents["catalog"] = Graph().parse(data=turtle, format="turtle")
    print(f"serialised and parsed back in {time.perf_counter() - started:.2f} s")
    return documents


def validate(name, document, shapes, vocabularies):
    report = shacl.validate(document, shapes, vocabularies)
    print(f"{name} vs {shapes.name}: {len(document)} triples, validated in {report.seconds:.2f} s, "
          f"{len(report.violations)} violations, {len(report.warnings)} warnings")
    if report.warnings:
        print(report.explain("Warning"))
    return report


def assert_conforms(documents, shapes, vocabularies, expected=()):
    """No violations in any document, except the source shapes listed in ``expected`` (known gaps)."""
    for name, document in documents.items():
        report = validate(name, document, shapes, vocabularies)
        unexpected = [result for result in report.violations if result.shape not in expected]
        assert not unexpected, f"{name} document:\n" + "\n".join(f"  {result}" for result in unexpected)
        gone = set(expected) - {result.shape for result in report.violations}
        assert not gone, f"{name} document: known gap closed, drop it from expected: {sorted(gone)}"


@pytest.fixture
def publisher_org():
    return factories.Organization(name="landkreis-kusel", title="Landkreis Kusel")


@pytest.fixture
def create(sysadmin):
    def create(**fields):
        dataset = helpers.call_action("package_create", {"user": sysadmin["name"]}, **fields)
        return helpers.call_action("package_show", id=dataset["id"])

    return create


# Minimal ------------------------------------------------------------------------------------------------------------


def minimal(org):
    """Only the required fields (theme is recommended, not required, but GovData sorts by it); a licence that needs
    no attribution."""
    return {"name": "pegel-minimal", "title": "Pegelstände", "notes": "Messwerte der Pegel im Landkreis.",
            "theme": [EU + "data-theme/ENVI"], "license_id": DL_ZERO, "owner_org": org["id"]}


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_minimal_dataset_conforms_to_dcat_ap_de(create, publisher_org, dcat_ap_de_shapes, shacl_vocabularies):
    documents = serialise(create(**minimal(publisher_org)))

    assert_conforms(documents, dcat_ap_de_shapes, shacl_vocabularies)


@pytest.mark.ckan_config("ckanext.suedwest.default_contributor_id", CONTRIBUTOR)
@pytest.mark.usefixtures("clean_db", "clean_index")
def test_minimal_dataset_conforms_to_govdata_conventions(create, publisher_org, govdata_conventions_shapes,
                                                         shacl_vocabularies):
    """With the operator's contributor ID (ckanext.suedwest.default_contributor_id) nothing more is needed."""
    documents = serialise(create(**minimal(publisher_org)))

    assert_conforms(documents, govdata_conventions_shapes, shacl_vocabularies)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_without_any_contributor_id_govdata_flags_the_dataset(create, publisher_org, govdata_conventions_shapes,
                                                              shacl_vocabularies):
    """No contributor ID on the dataset and none configured: K12/13 is the conventions' only complaint."""
    documents = serialise(create(**minimal(publisher_org)))

    assert_conforms(documents, govdata_conventions_shapes, shacl_vocabularies, expected=[K12_13])


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_minimal_dataset_with_contributor_id_conforms_to_govdata_conventions(
        create, publisher_org, govdata_conventions_shapes, shacl_vocabularies):
    documents = serialise(create(**minimal(publisher_org), contributor_id=CONTRIBUTOR))

    assert_conforms(documents, govdata_conventions_shapes, shacl_vocabularies)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_contact_with_phone_only_is_rejected_as_govdata_wants(create, publisher_org):
    """GovData's K01 wants an e-mail address or a web page on every contact point: the schema asks for one."""
    with pytest.raises(ValidationError) as error:
        create(**minimal(publisher_org), contact=[{"name": "Zentrale", "phone": "+49 631 365-0"}])

    assert "contact" in error.value.error_dict


# Full ---------------------------------------------------------------------------------------------------------------


def full(org):
    """Every field of schemas/dataset.yaml, and every resource field on the first resource."""
    return {
        "name": "pegel-lauter-kusel",
        "title": "Pegelstände der Lauter",
        "notes": "Wasserstände der Lauter an den Pegeln des Landkreises, alle 15 Minuten gemessen.",
        "theme": [EU + "data-theme/ENVI", EU + "data-theme/TRAN"],
        "tag_string": "Pegel,Hochwasser,Lauter",
        "owner_org": org["id"],
        "license_id": DL_BY,
        "license_attribution_by_text": "Landkreis Kusel, Umweltamt (2026)",
        "publisher": [{"name": "Kreisverwaltung Kusel", "uri": "https://www.landkreis-kusel.de/",
                       "type": "http://purl.org/adms/publishertype/LocalAuthority",
                       "email": "poststelle@kv-kus.de", "url": "https://www.landkreis-kusel.de/"}],
        "contact": [{"name": "Umweltamt", "email": "umwelt@kv-kus.de", "url": "https://www.landkreis-kusel.de/umwelt",
                     "phone": "+49 6381 424-0"}],
        "contributor_id": CONTRIBUTOR,
        "political_geocoding_level_uri": GEOCODING + "Level/administrativeDistrict",
        "political_geocoding_uri": [GEOCODING + "districtKey/07336"],
        "spatial_coverage": [{"uri": "https://www.landkreis-kusel.de/#gebiet", "text": "Landkreis Kusel",
                              "bbox": json.dumps(KUSEL),
                              "centroid": json.dumps({"type": "Point", "coordinates": [7.4, 49.56]})}],
        "temporal_coverage": [{"start": "2020-01-01", "end": "2025-12-31"}],
        "frequency": EU + "frequency/DAILY",
        "language": [EU + "language/DEU", EU + "language/ENG"],
        "issued": "2024-03-01",
        "modified": "2026-01-15T10:00:00",
        "identifier": "urn:de:landkreis-kusel:pegel-lauter",
        "url": "https://www.landkreis-kusel.de/pegel",
        "documentation": ["https://www.landkreis-kusel.de/pegel/dokumentation"],
        "conforms_to": ["https://www.pegelonline.wsv.de/webservice/ueberblick"],
        "version": "1.2",
        "resources": [
            {"url": "https://daten.landkreis-kusel.de/pegel/lauter-2026.csv", "name": "Messwerte 2026",
             "description": "Ein Wert je Pegel und Viertelstunde.", "format": "CSV",
             "license": LICENSES + "cc-by/4.0", "license_attribution_by_text": "Kreisverwaltung Kusel",
             "download_url": "https://daten.landkreis-kusel.de/pegel/lauter-2026.csv", "mimetype": "text/csv",
             "issued": "2026-01-01", "modified": "2026-01-02",
             # ckanext-pegel's Meldestufen (not in the RDF): must not disturb the DCAT output
             "pegel_warning_levels": '{"1": 250, "2": 320, "3": 400, "4": 480}'},
            {"url": "https://daten.landkreis-kusel.de/api/pegel", "name": "Programmierschnittstelle", "format": "API"},
        ],
    }


def test_full_dataset_fills_every_schema_field():
    schema = scheming_get_dataset_schema("dataset")
    dataset = full({"id": "an-organisation"})
    empty = [field["field_name"] for field in schema["dataset_fields"] if not dataset.get(field["field_name"])]
    empty += ["resource: " + field["field_name"] for field in schema["resource_fields"]
              if not dataset["resources"][0].get(field["field_name"])]
    assert not empty, "full() misses fields of schemas/dataset.yaml"


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_full_dataset_conforms(create, publisher_org, dcat_ap_de_shapes, govdata_conventions_shapes,
                               shacl_vocabularies):
    documents = serialise(create(**full(publisher_org)))

    assert_conforms(documents, dcat_ap_de_shapes, shacl_vocabularies)
    assert_conforms(documents, govdata_conventions_shapes, shacl_vocabularies)


# Tricky -------------------------------------------------------------------------------------------------------------

TRICKY_TITLE = 'Pegelstände „Lauter“ – Straße "Am Fluß" \'Süd\' \\ Größe: 3 """ Ärger'
TRICKY_TEXT = ('Zeile mit Umlauten: äöü ÄÖÜ ß ẞ\r\nZeile mit "doppelten", \'einfachen\' und „deutschen“ Anführungszeichen,'
               ' »Guillemets«, Backslash \\ und Tab\t.\n\n"""Dreifach""" \'\'\'zitiert\'\'\' <b>kein HTML</b> & Co.\n')


def tricky(org):
    """Umlauts, ß, quotes, line breaks, a 20,000-character description, 30 resources (every file type, several
    licences), 3 contact points and a licence requiring attribution."""
    notes = TRICKY_TEXT
    while len(notes) < 20000:
        notes += f"Absatz {len(notes)}: Die Pegelstände an der Glan-Brücke „Altenglan“ werden übermäßig oft geprüft.\n"
    notes = notes[:20000]
    file_types = scheming_get_preset("dcatde_file_type")["choices"]
    licence_ids = sorted(licenses.register().keys())
    resources = []
    for number in range(30):
        file_type = file_types[number % len(file_types)]
        resource = {
            "url": f"https://daten.landkreis-kusel.de/pegel/messwerte-{number}.{file_type['value'].lower()}",
            "name": f'Messwerte „{number}“ – Größe "groß"',
            "description": f"Ressource {number}\nmit Zeilenumbruch und Ümlaut.",
            "format": file_type["value"],
        }
        if number % 3 == 0:
            resource["license"] = licence_ids[number // 3 % len(licence_ids)]
            if licenses.requires_attribution(resource["license"]):
                resource["license_attribution_by_text"] = f'„Landkreis Kusel“ – Datensatz "Pegel" Nr. {number}'
        if number == 0:
            resource["mimetype"] = "text/csv; charset=utf-8"  # published as the IANA IRI of text/csv
        resources.append(resource)
    return {
        "name": "pegel-sonderzeichen",
        "title": TRICKY_TITLE,
        "notes": notes,
        "theme": [EU + "data-theme/ENVI"],
        "tag_string": "Größe,Straßenverkehr,Überflutung",
        "owner_org": org["id"],
        "license_id": DL_BY,
        "license_attribution_by_text": 'Landkreis Kusel – „Umweltamt“ \'Süd\'\nZweite Zeile',
        "contact": [
            {"name": 'Bürgerbüro „Rathaus“', "email": "buergerbuero@kv-kus.de", "phone": "+49 (6381) 424-0"},
            {"name": "Straßenmeisterei 'Süd'", "url": "https://www.landkreis-kusel.de/straße"},
            {"name": "Leitstelle\nHochwasser", "email": "hochwasser@kv-kus.de", "url": "https://www.hochwasser.rlp.de/"},
        ],
        "contributor_id": CONTRIBUTOR,
        "political_geocoding_level_uri": GEOCODING + "Level/municipality",
        "political_geocoding_uri": [GEOCODING + "districtKey/07336", GEOCODING + "districtKey/07232"],
        "spatial_coverage": [
            # exact geometries as API clients send them; the schema keeps their bbox and centroid
            {"text": "Eifelkreis Bitburg-Prüm", "geom": json.dumps(BITBURG_PRUEM)},
            {"text": 'Pegel „Glan“', "geom": json.dumps({"type": "Point", "coordinates": [7.46, 49.55]})},
        ],
        "temporal_coverage": [{"start": "1998-11-01"}],
        "language": [EU + "language/DEU"],
        "resources": resources,
    }


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_tricky_dataset_conforms(create, publisher_org, dcat_ap_de_shapes, govdata_conventions_shapes,
                                 shacl_vocabularies):
    dataset = create(**tricky(publisher_org))
    assert len(dataset["notes"]) == 20000 and len(dataset["resources"]) == 30 and len(dataset["contact"]) == 3

    documents = serialise(dataset)
    # and as RDF/XML, the other format harvesters read
    documents["dataset (RDF/XML)"] = Graph().parse(
        data=RDFSerializer().serialize_dataset(dataset, _format="xml"), format="xml")

    for name, document in documents.items():
        notes = dataset["notes"]
        if "RDF/XML" in name:
            # rdflib writes texts with markup characters as CDATA, where XML turns CR LF into LF
            notes = notes.replace("\r\n", "\n")
        assert (None, DCTERMS.title, Literal(TRICKY_TITLE)) in document
        assert (None, DCTERMS.description, Literal(notes)) in document
        assert len(set(document.subjects(RDF.type, DCAT.Distribution))) == 30
        assert len(set(document.objects(None, DCAT.contactPoint))) == 3
        assert (None, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/text/csv")) in document
    assert_conforms(documents, dcat_ap_de_shapes, shacl_vocabularies)
    assert_conforms(documents, govdata_conventions_shapes, shacl_vocabularies)


# The check can fail -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_broken_documents_have_violations(create, publisher_org, dcat_ap_de_shapes, govdata_conventions_shapes,
                                          shacl_vocabularies):
    document = serialise(create(**full(publisher_org)))["dataset"]
    dataset_ref = document.value(predicate=RDF.type, object=DCAT.Dataset, any=False)
    distribution = sorted(document.objects(dataset_ref, DCAT.distribution))[0]
    document.remove((dataset_ref, DCTERMS.title, None))
    document.remove((distribution, DCTERMS.license, None))
    document.add((dataset_ref, DCTERMS.accrualPeriodicity, URIRef(EU + "frequency/SOMETIMES")))

    profile = validate("broken dataset", document, dcat_ap_de_shapes, shacl_vocabularies)
    conventions = validate("broken dataset", document, govdata_conventions_shapes, shacl_vocabularies)

    def found(report, focus, path, message_part=""):
        return any(result.focus == str(focus) and result.path == path and message_part in result.message
                   for result in report.violations)

    # EU DCAT-AP 3: dct:title is mandatory; DCAT-AP.de 3.0: a distribution MUST have a licence
    assert found(profile, dataset_ref, "dct:title", "title MUSS MINDESTEN einmal"), profile.explain()
    assert found(profile, distribution, "dct:license", "MUSS eine dcterms:license haben"), profile.explain()
    # the frequency must come from the EU list (checked on the value's skos:inScheme)
    assert found(profile, EU + "frequency/SOMETIMES", "skos:inScheme", "accrualPeriodicity"), profile.explain()
    # GovData: K31 (licence from the dcat-ap.de list), and dct:title in the 2.0 base shapes
    assert found(conventions, distribution, "dct:license", "K31"), conventions.explain()
    assert found(conventions, dataset_ref, "dct:title"), conventions.explain()


# The code lists -----------------------------------------------------------------------------------------------------

# The scheme each code list of the schema is checked against (sh:hasValue of skos:inScheme in the shapes).
SCHEMES = {
    "dcatde_theme": EU + "data-theme",
    "dcatde_frequency": EU + "frequency",
    "dcatde_language": EU + "language",
    "dcatde_geocoding_level": GEOCODING + "Level",
    "dcatde_publisher_type": "http://purl.org/adms/publishertype/1.0",
    "dcatde_file_type": EU + "file-type",
}


def test_every_schema_choice_is_in_its_code_list(dcat_ap_de_shapes, shacl_vocabularies):
    """Every value the schema offers is a member of the list the shapes check: from the official lists in the
    reference folder where they are stored, otherwise from tests/data/codelists.ttl (add new choices there after
    checking them against the official list)."""
    checked = set(dcat_ap_de_shapes.graph.objects(None, SH.hasValue))
    members = shacl_vocabularies.graph
    missing = []
    for preset, scheme in SCHEMES.items():
        assert URIRef(scheme) in checked, f"the shapes no longer check {scheme}"
        for choice in scheming_get_preset(preset)["choices"]:
            value = choice.get("uri") or choice["value"]
            if (URIRef(value), SKOS.inScheme, URIRef(scheme)) not in members:
                missing.append(f"{preset}: {value}")
    for license_id in licenses.register().keys():
        if (URIRef(license_id), SKOS.inScheme, URIRef("http://dcat-ap.de/def/licenses")) not in members:
            missing.append(f"licenses.json: {license_id}")
    if (URIRef(CONTRIBUTOR), SKOS.inScheme, URIRef("http://dcat-ap.de/def/contributors")) not in members:
        missing.append(f"contributor: {CONTRIBUTOR}")
    assert not missing


# The reference files ------------------------------------------------------------------------------------------------


def test_missing_reference_folder_names_the_option(tmp_path):
    with pytest.raises(shacl.ReferenceFilesMissing, match="ckanext.suedwest.reference_dir"):
        shacl.reference_dir("no-such-folder", tmp_path)


def test_shape_sets(dcat_ap_de_shapes, govdata_conventions_shapes, shacl_vocabularies):
    assert tk.config.get("ckanext.dcat.rdf.profiles") == "dcat_ap_de"  # what RDFSerializer() uses above
    for loaded in (dcat_ap_de_shapes, govdata_conventions_shapes, shacl_vocabularies):
        print(f"{loaded.name}: {len(loaded.files)} files, {len(loaded.graph)} triples, "
              f"loaded in {loaded.seconds:.2f} s")
    assert len(dcat_ap_de_shapes.files) == 6
    assert any("konventionen" in path.name for path in govdata_conventions_shapes.files)
