#!/usr/bin/env python3
"""Derive the Solr schema of the bundle from CKAN's own ``schema.xml``.

CKAN's schema is the source of truth (CKAN checks its name at start-up); we apply two changes on top
of it, here and in the production image alike, so that development, CI and production search the same:

* German text analysis: the ``text`` field type (title, notes and the catch-all ``text`` field) stems
  German instead of English, so that a search for "Pegelstand" finds "Pegelstände der Mosel".
* The float fields ``minx``/``maxx``/``miny``/``maxy``/``bbox_area`` that ckanext-spatial's
  ``solr-bbox`` backend indexes and queries.

Idempotent: applying it to an already patched schema changes nothing.

Usage: build_schema.py CKAN_SCHEMA_XML OUTPUT_XML
"""
import sys
import xml.etree.ElementTree as ET

BBOX_FIELDS = ("minx", "maxx", "miny", "maxy", "bbox_area")

# Replaces the English Snowball stemmer of CKAN's "text" type, in both analyzers. Umlauts and ß are
# normalised before stemming, so "Pegelstände", "Pegelstaende" and "Pegelstand" meet in one term.
GERMAN_FILTERS = (
    ("solr.KeywordMarkerFilterFactory", {"protected": "protwords.txt"}),
    ("solr.GermanNormalizationFilterFactory", {}),
    ("solr.GermanLightStemFilterFactory", {}),
)


def _germanise(field_type):
    for analyzer in field_type.iter("analyzer"):
        filters = list(analyzer)
        for position, element in enumerate(filters):
            if element.get("class") == "solr.SnowballPorterFilterFactory":
                analyzer.remove(element)
                for offset, (cls, attrs) in enumerate(GERMAN_FILTERS):
                    german = ET.Element("filter", {"class": cls, **attrs})
                    german.tail = element.tail
                    analyzer.insert(position + offset, german)
                break


def _add_bbox_fields(fields):
    existing = {field.get("name") for field in fields.findall("field")}
    for name in BBOX_FIELDS:
        if name not in existing:
            if len(fields):
                fields[-1].tail = "\n    "
            field = ET.SubElement(fields, "field", {"name": name, "type": "float", "indexed": "true", "stored": "true"})
            field.tail = "\n"


def build_schema(ckan_schema: str) -> str:
    """Return the patched schema for the XML text of CKAN's schema."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.fromstring(ckan_schema, parser=parser)
    text_type = root.find("./types/fieldType[@name='text']")
    fields = root.find("./fields")
    if text_type is None or fields is None:
        raise ValueError("not a CKAN Solr schema: no <fieldType name='text'> or <fields>")
    _germanise(text_type)
    _add_bbox_fields(fields)
    return '<?xml version="1.0" encoding="UTF-8" ?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(argv[1], encoding="utf-8") as source:
        patched = build_schema(source.read())
    with open(argv[2], "w", encoding="utf-8") as target:
        target.write(patched)


if __name__ == "__main__":
    main(sys.argv)
