"""What the search index holds beyond CKAN's defaults: the EU data theme as a facet, and the map extent.

The map extent (``spatial``, which ckanext-spatial's solr-bbox backend indexes) spans every area of the
dataset: their bounding boxes, and their centroids widened to a small box, because the backend matches by
overlapping area and a bare point has none. ckanext-dcat would otherwise index one subfield of the first
area only (the centroid, when an area has both) and leave point-only datasets off the map.

The dataset field ``theme`` holds a list of EU theme URIs, which CKAN stores and indexes as one JSON string,
so Solr could only count combinations. Each URI is therefore indexed on its own in ``vocab_theme`` (CKAN's
Solr schema has ``vocab_*`` as a multi-valued string field), which the search page offers as the
"Kategorie" facet with the schema's German labels, and which API clients filter on with
``fq=vocab_theme:"http://publications.europa.eu/resource/authority/data-theme/ENVI"``.
"""
from __future__ import annotations

import json

import shapely.geometry
import shapely.ops

from ckanext.scheming.helpers import scheming_choices_label, scheming_field_choices

from ckanext.suedwest import vocabularies

THEME_FACET = "vocab_theme"
# Half the side of the box a point is indexed as: 0.0005° is about 50 m (north-south) in the Palatinate.
POINT_MARGIN = 0.0005


def index_extent(pkg_dict: dict) -> None:
    """IPackageController.before_dataset_index (before ckanext-dcat's): ``spatial`` from all areas."""
    areas = pkg_dict.get("spatial_coverage")
    if isinstance(areas, str):
        try:
            areas = json.loads(areas)
        except ValueError:
            return
    shapes = []
    for area in areas or []:
        for field in ("bbox", "centroid"):
            try:
                shape = shapely.geometry.shape(json.loads(area[field])) if area.get(field) else None
            except (ValueError, TypeError, KeyError, AttributeError):
                shape = None  # stored before validation existed; nothing to index
            if shape is not None and not shape.is_empty:
                shapes.append(shape.buffer(POINT_MARGIN, cap_style="square") if shape.area == 0 else shape)
    if shapes:
        extent = shapely.geometry.box(*shapely.ops.unary_union(shapes).bounds)
        # both keys, as ckanext-dcat sets them: ckanext-spatial indexes "extras_spatial"
        pkg_dict["spatial"] = pkg_dict["extras_spatial"] = json.dumps(shapely.geometry.mapping(extent))


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
