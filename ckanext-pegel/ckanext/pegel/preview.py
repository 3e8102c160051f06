"""The ``pegel_view`` resource view: the chart of a station's live series.

The view is offered for series resources only (marked with ``pegel_station`` and ``pegel_series``) and is a
default view (``ckan.views.default_views``), so a harvested or newly created series gets it on creation.

The page is usable without JavaScript: the server renders the current value, the stale notice, the range
links and a table of the points of the chosen range (``pegel_series``, called with the visitor's
permissions). The JavaScript module (assets/pegel-chart.js) reads the same payload from the page, draws the
chart and then polls ``pegel_series`` itself. Levels, trend and staleness come from the server only, so the
chart agrees with the map of the dashboard.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

import babel
import babel.dates
import babel.numbers
import flask

import ckan.plugins.toolkit as tk

from ckanext.pegel import series
from ckanext.pegel.harvesters import messages

TEMPLATE = "pegel/chart_view.html"
REFRESH_OPTION = "ckanext.pegel.chart_refresh_seconds"
# German gauges on a German portal: the chart and the table always show German local time.
TIMEZONE = "Europe/Berlin"
_ZONE = zoneinfo.ZoneInfo(TIMEZONE)
# Query parameter of the range links, so the ranges work without JavaScript too.
RANGE_PARAM = "pegel_range"
RANGE_KEYS = ("24h", "7d", "30d")
DEFAULT_RANGE = "24h"
TENTH = Decimal("0.1")
TREND_ARROWS = {"rising": "\u2197", "falling": "\u2198", "steady": "\u2192"}


def info() -> dict:
    """The view plugin's description for CKAN (``IResourceView.info``)."""
    title, default_title = _titles() if flask.has_request_context() else _titles_in_site_locale()
    return {
        "name": "pegel_view",
        "title": title,
        "icon": "chart-line",
        "iframed": False,
        "always_available": False,
        # The view polls the DataStore table itself, but it must exist from the moment the series does:
        # created with the dataset (package_create), not only when a DataStore table is loaded.
        "requires_datastore": False,
        "default_title": default_title,
        "default_description": "",
        "preview_enabled": False,
    }


def _titles() -> tuple[str, str]:
    return tk._("Water level chart"), tk._("Water level")


@functools.lru_cache(maxsize=1)
def _titles_in_site_locale() -> tuple[str, str]:
    """The titles when the harvester or the ingest creates a view, outside any request: the default title is
    stored with the view, so it must be in the site's language, not in English. Once per process: CKAN calls
    info() several times per resource, and the site's language does not change while it runs."""
    with messages.site_locale():
        return _titles()


def can_view(data_dict: dict) -> bool:
    """Only for a live series resource (``pegel_station`` and ``pegel_series`` set)."""
    resource = data_dict.get("resource") or {}
    return bool(resource.get(series.STATION_FIELD)) and bool(resource.get(series.SERIES_FIELD))


def template_variables(data_dict: dict) -> dict:
    """Everything the template shows before any JavaScript runs, under ``pegel``."""
    resource = data_dict["resource"]
    locale = _locale()
    range_key = _requested_range()
    payload, error = _initial_payload(resource["id"], range_key)
    quantity = quantity_label(resource.get(series.SERIES_FIELD))
    return {"pegel": {
        "resource_id": resource["id"],
        "range": range_key,
        "ranges": [{"key": key, "label": label, "url": _range_url(key), "active": key == range_key}
                   for key, label in range_labels().items()],
        "api_url": tk.h.url_for("api.action", ver=3, logic_function="pegel_series"),
        "refresh_seconds": max(10, int(tk.config.get(REFRESH_OPTION))),
        "locale": locale,
        "timezone": TIMEZONE,
        "quantity": quantity,
        "payload": payload,
        "error": error,
        "status": status_view(payload["status"], locale) if payload else None,
        "table": table_view(payload, locale, quantity) if payload else None,
    }}


def range_labels() -> dict[str, str]:
    return {"24h": tk._("24 h"), "7d": tk._("7 days"), "30d": tk._("30 days")}


def quantity_label(series_key: str | None) -> str:
    return tk._("Water level") if series_key == series.WATER_LEVEL else tk._("Reading")


def _locale() -> str:
    try:
        return tk.h.lang() or tk.config.get("ckan.locale_default") or "de"
    except (RuntimeError, AttributeError):  # outside a request
        return tk.config.get("ckan.locale_default") or "de"


def _requested_range() -> str:
    try:
        value = tk.request.args.get(RANGE_PARAM)
    except RuntimeError:  # rendered outside a request (tests, CLI)
        return DEFAULT_RANGE
    return value if value in RANGE_KEYS else DEFAULT_RANGE


def _range_url(range_key: str) -> str:
    """The current page with ``pegel_range`` set (other parameters such as ``view_id`` kept)."""
    try:
        args = [(key, value) for key, value in tk.request.args.items(multi=True) if key != RANGE_PARAM]
        path = tk.request.path
    except RuntimeError:
        args, path = [], ""
    return path + "?" + urlencode([*args, (RANGE_PARAM, range_key)])


def _initial_payload(resource_id: str, range_key: str) -> tuple[dict | None, str | None]:
    """``pegel_series`` as the visitor may see it, or a German message why not."""
    user = tk.current_user
    context = {"user": getattr(user, "name", "") or "",
               "auth_user_obj": user if getattr(user, "is_authenticated", False) else None}
    try:
        return tk.get_action("pegel_series")(context, {"resource_id": resource_id, "range": range_key}), None
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return None, tk._("The readings of this series are not available to you.")
    except tk.ValidationError:
        return None, tk._("This resource is not a water-level series.")


# Formatting: the same formats as pegel-chart.js (Intl with the page's locale, German local time). The table
# holds up to 500 rows: the patterns and symbols are looked up once per locale, and numbers are formatted by
# Python (babel's NumberPattern.apply costs ~40 us a value).

@functools.lru_cache(maxsize=8)
def _patterns(locale: str):
    parsed = babel.Locale.parse(locale)
    skeletons = parsed.datetime_skeletons
    date = babel.dates.parse_pattern(skeletons[babel.dates.match_skeleton("yMMdd", skeletons)])
    time = babel.dates.parse_pattern(skeletons[babel.dates.match_skeleton("Hm", skeletons)])
    symbols = str.maketrans({",": babel.numbers.get_group_symbol(parsed),
                             ".": babel.numbers.get_decimal_symbol(parsed),
                             "-": babel.numbers.get_minus_sign_symbol(parsed)})
    return parsed, date, time, symbols


def format_number(value: float | None, locale: str) -> str:
    """At most one decimal, grouped: ``1.312,5`` in German, ``1,312.5`` in English."""
    if value is None:
        return "\u2013"
    if not math.isfinite(value):
        return str(value)
    # Half away from zero on the shortest decimal form of the float, as Intl.NumberFormat rounds (2.25 -> 2.3,
    # -2.55 -> -2.6); Python's own formatting would round half to even on the binary value.
    text = f"{Decimal(repr(float(value))).quantize(TENTH, rounding=ROUND_HALF_UP):,f}"
    if text.endswith(".0"):
        text = text[:-2]
    if text == "-0":
        text = "0"
    return text.translate(_patterns(locale)[3])


def format_time(value: str | dt.datetime, locale: str) -> str:
    """``24.11.2026, 06:45`` (German local time) for a UTC ISO 8601 time."""
    time = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    local = time.astimezone(_ZONE)
    parsed, date_pattern, time_pattern, _number = _patterns(locale)
    return f"{date_pattern.apply(local, parsed)}, {time_pattern.apply(local, parsed)}"


def age_text(minutes: float) -> str:
    """``vor 45 Minuten``, ``vor 3 Stunden``, ``vor 2 Tagen``."""
    minutes = max(0, int(minutes))
    if minutes < 120:
        return tk.ungettext("%(num)d minute ago", "%(num)d minutes ago", minutes)
    hours = minutes // 60
    if hours < 48:
        return tk.ungettext("%(num)d hour ago", "%(num)d hours ago", hours)
    days = hours // 24
    return tk.ungettext("%(num)d day ago", "%(num)d days ago", days)


def status_view(status: dict[str, Any], locale: str) -> dict:
    """The current value, trend, level and the stale notice, as texts for the template."""
    latest = status.get("latest")
    view = {
        "level_class": status["level"]["class"],
        "level_label": status["level"]["label"],
        "trend": status.get("trend"),
        "trend_label": status.get("trend_label"),
        "trend_arrow": TREND_ARROWS.get(status.get("trend") or "", ""),
        "stale": bool(status.get("stale")),
        "value": None, "unit": None, "time": None, "stale_text": None,
    }
    if latest is None:
        view["stale_text"] = tk._("There are no readings of this series yet.")
        return view
    view.update(value=format_number(latest["value"], locale), unit=latest.get("unit") or "",
                time=tk._("As of %(time)s") % {"time": format_time(latest["time"], locale)})
    if view["stale"]:
        view["stale_text"] = tk._("Last reading %(ago)s – the data are not up to date") % {
            "ago": age_text(status.get("age_minutes") or 0)}
    return view


def table_view(payload: dict, locale: str, quantity: str) -> dict:
    """The points of the chart as table rows, newest first."""
    unit = payload.get("unit") or ""
    aggregated = bool(payload.get("aggregated"))
    rows = [{"time": format_time(time, locale), "iso": time, "mean": format_number(mean, locale),
             "low": format_number(low, locale) if aggregated else None,
             "high": format_number(high, locale) if aggregated else None, "count": count}
            for time, low, high, mean, count in reversed(payload.get("buckets") or [])]
    return {"aggregated": aggregated, "unit": unit, "rows": rows,
            "caption": tk._("%(quantity)s over the last %(range)s") % {
                "quantity": quantity, "range": range_labels()[payload["range"]]}}
