"""Chained actions around ckanext-dcat's catalog actions (registered by the actions blanket)."""
from datetime import timezone

from dateutil.parser import ParserError, parse as parse_date

import ckan.plugins.toolkit as tk


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


@tk.chained_action
def dcat_catalog_show(up_func, context, data_dict):
    return up_func(context, _utc_modified_since(data_dict))


@tk.chained_action
def dcat_catalog_search(up_func, context, data_dict):
    return up_func(context, _utc_modified_since(data_dict))

