"""config/solr/build_schema.py: CKAN's schema plus German analysis and the bbox fields."""
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import ckan

PROJECT = Path(__file__).resolve().parents[2]
CKAN_SCHEMA = Path(ckan.__file__).parent / "config" / "solr" / "schema.xml"


def load_builder():
    spec = importlib.util.spec_from_file_location("build_schema", PROJECT / "config" / "solr" / "build_schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_schema


def filters_of(schema, field_type):
    root = ET.fromstring(schema)
    analyzers = root.findall(f"./types/fieldType[@name='{field_type}']/analyzer")
    return [[f.get("class") for f in analyzer.findall("filter")] for analyzer in analyzers]


def test_text_type_stems_german_in_both_analyzers():
    schema = load_builder()(CKAN_SCHEMA.read_text())

    for filters in filters_of(schema, "text"):
        assert "solr.SnowballPorterFilterFactory" not in filters
        normalise, stem = filters.index("solr.GermanNormalizationFilterFactory"), filters.index(
            "solr.GermanLightStemFilterFactory")
        assert filters.index("solr.LowerCaseFilterFactory") < normalise < stem
    assert len(filters_of(schema, "text")) == 2


def test_bbox_fields_are_added_once_and_schema_name_kept():
    build = load_builder()

    schema = build(build(CKAN_SCHEMA.read_text()))

    root = ET.fromstring(schema)
    assert root.get("name") == ET.fromstring(CKAN_SCHEMA.read_text()).get("name")
    for name in ("minx", "maxx", "miny", "maxy", "bbox_area"):
        fields = root.findall(f"./fields/field[@name='{name}']")
        assert [(f.get("type"), f.get("indexed"), f.get("stored")) for f in fields] == [("float", "true", "true")]


def test_other_field_types_are_untouched():
    original = CKAN_SCHEMA.read_text()

    schema = load_builder()(original)

    assert filters_of(schema, "text_general") == filters_of(original, "text_general")
