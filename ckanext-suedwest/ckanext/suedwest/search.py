"""The EU data theme as a search facet.

The dataset field ``theme`` holds a list of EU theme URIs, which CKAN stores and indexes as one JSON string,
so Solr could only count combinations. Each URI is therefore indexed on its own in ``vocab_theme`` (CKAN's
Solr schema has ``vocab_*`` as a multi-valued string field), which the search page offers as the
"Kategorie" facet with the schema's German labels, and which API clients filter on with
``fq=vocab_theme:"http://publications.europa.eu/resource/authority/data-theme/ENVI"``.
"""
from __future__ import annotations

import json

from ckanext.scheming.helpers import scheming_choices_label, scheming_field_choices

from ckanext.suedwest import vocabularies

THEME_FACET = "vocab_theme"


def index_themes(pkg_dict: dict) -> None:
    """IPackageController.before_dataset_index: one ``vocab_theme`` value per theme URI."""
    themes = pkg_dict.get("theme")
    if isinstance(themes, str):
        try:
            themes = json.loads(themes)
        except ValueError:
            themes = [themes]
    if themes:
        pkg_dict[THEME_FACET] = [uri for uri in themes if isinstance(uri, str) and uri]


def label_theme_facet(search_results: dict) -> None:
    """IPackageController.after_dataset_search: German labels instead of URIs in the theme facet."""
    facet = (search_results.get("search_facets") or {}).get(THEME_FACET)
    if not facet:
        return
    choices = scheming_field_choices(vocabularies.dataset_field("theme"))
    for item in facet.get("items", []):
        item["display_name"] = scheming_choices_label(choices, item["name"])
