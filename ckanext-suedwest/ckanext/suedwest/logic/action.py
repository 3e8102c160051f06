"""Chained actions around ckanext-dcat's catalog actions (registered by the actions blanket): dates with
a time zone in ``modified_since``, and Turtle pages from cached dataset fragments (catalog_cache.py)."""
from datetime import timezone

from dateutil.parser import ParserError, parse as parse_date

import ckan.plugins.toolkit as tk
from ckanext.dcat import logic as dcat_logic

from ckanext.suedwest.catalog_cache import FragmentCachingSerializer, cache_enabled


def _utc_modified_since(data_dict):
    """ckanext-dcat appends "Z" to the date it parses, so a date with a zone, such as the common
    ``2026-01-01T00:00:00Z``, became ``...+00:00Z``, which Solr rejects with a server error. Hand it
    on as the equivalent UTC time without a zone."""
    value = data_dict.get("modified_since")
    if not value:
        return data_dict
    try:
        parsed = parse_date(value)
    except (ParserError, ValueError, OverflowError):
        return data_dict  # ckanext-dcat answers with its own format error
    if parsed.tzinfo:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return {**data_dict, "modified_since": parsed.isoformat()}


def _catalog(up_func, action, context, data_dict):
    """ckanext-dcat's catalog action, with two additions: Turtle pages are assembled from cached dataset
    fragments, and an optional ``catalog`` dict (title, description, homepage, publisher_name) describes
    a catalog of its own, such as one municipality's."""
    data_dict = _utc_modified_since(data_dict)
    if not cache_enabled(data_dict.get("format")) and not data_dict.get("catalog"):
        return up_func(context, data_dict)
    tk.check_access(action, context, data_dict)
    query = dcat_logic._search_ckan_datasets(context, data_dict)
    serializer = FragmentCachingSerializer(profiles=data_dict.get("profiles"))
    return serializer.serialize_catalog(data_dict.get("catalog") or {}, query["results"],
                                        _format=data_dict.get("format"),
                                        pagination_info=dcat_logic._pagination_info(query, data_dict))


@tk.chained_action
def dcat_catalog_show(up_func, context, data_dict):
    return _catalog(up_func, "dcat_catalog_show", context, data_dict)


@tk.chained_action
@tk.side_effect_free
def dcat_catalog_search(up_func, context, data_dict):
    return _catalog(up_func, "dcat_catalog_search", context, data_dict)
