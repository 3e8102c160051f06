"""Check a patched CKAN Solr schema before it goes into the image; exits non-zero naming the problem.

Usage: verify_schema.py SCHEMA_XML

It must still be CKAN's 2.11 schema, its ``text`` field type must stem German in both analyzers (no
English Snowball stemmer left), and each bbox field of ckanext-spatial must be declared exactly once.
"""
import sys
import xml.etree.ElementTree as ET

BBOX_FIELDS = ("minx", "maxx", "miny", "maxy", "bbox_area")
EXPECTED_SCHEMA = "ckan-2.11"


def problems(schema_xml: str) -> list:
    root = ET.fromstring(schema_xml)
    found = []
    if root.get("name") != EXPECTED_SCHEMA:
        found.append(f"schema name is {root.get('name')!r}, expected {EXPECTED_SCHEMA!r}")
    analyzers = root.findall("./types/fieldType[@name='text']/analyzer")
    if len(analyzers) != 2:
        found.append(f"field type 'text' has {len(analyzers)} analyzers, expected 2 (index and query)")
    for analyzer in analyzers:
        classes = [element.get("class") for element in analyzer.findall("filter")]
        if "solr.SnowballPorterFilterFactory" in classes:
            found.append(f"{analyzer.get('type')} analyzer of 'text' still has the English stemmer")
        for german in ("solr.GermanNormalizationFilterFactory", "solr.GermanLightStemFilterFactory"):
            if german not in classes:
                found.append(f"{analyzer.get('type')} analyzer of 'text' lacks {german}")
    for name in BBOX_FIELDS:
        count = len(root.findall(f"./fields/field[@name='{name}']"))
        if count != 1:
            found.append(f"field {name!r} is declared {count} times, expected once")
    return found


def main(argv) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as source:
        found = problems(source.read())
    for problem in found:
        print(f"schema check failed: {problem}", file=sys.stderr)
    if not found:
        print(f"{argv[1]}: German 'text' analysis and bbox fields in place")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
