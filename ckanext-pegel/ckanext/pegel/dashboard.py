"""The Pegel dashboard (``/pegel``) and the municipality widget: map and list of the stations the visitor may see.

Everything about levels comes from ``pegel_status`` (the server computes class, trend and staleness once, so map,
list and chart agree); this module only chooses which stations to show and formats values for people.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

import ckan.plugins.toolkit as tk
from ckan.common import current_user
from ckan.lib import formatters
from markupsafe import Markup
from werkzeug.routing import BuildError

from ckanext.pegel import warning_levels as wl
from ckanext.pegel.logic import action
from ckanext.tenant import tenants

FILTER_PARAM = "kommune"
REFRESH_OPTION = "ckanext.pegel.dashboard_refresh_seconds"
TEMPLATE = "pegel/dashboard.html"
WIDGET_TEMPLATE = "pegel/snippets/tenant_widget.html"
# Local time of the municipalities; the readings are stored in UTC.
LOCAL_ZONE = ZoneInfo("Europe/Berlin")
# Legend order: the Meldestufen of the municipalities, then PEGELONLINE's MNW/MHW classes.
LEGEND_CLASSES = ("meldestufe_4", "meldestufe_3", "meldestufe_2", "meldestufe_1", wl.BELOW_1,
                  wl.HIGH, wl.NORMAL, wl.LOW, wl.UNKNOWN)
# What the map and list script reads of a pegel_status entry (the page stays small with hundreds of stations).
MAP_FIELDS = ("station", "coordinates", "latest", "trend", "trend_label", "age_minutes", "stale", "private", "water")
MAP_NESTED = {"dataset": ("name", "title"), "organization": ("name", "title"), "level": ("class", "label")}


def visitor_context() -> dict:
    """An action context with the permissions of the person viewing the page (anonymous: none)."""
    if current_user.is_authenticated:
        return {"user": current_user.name, "auth_user_obj": current_user}
    return {"user": ""}


def stations(organization: str | None = None) -> list[dict]:
    """``pegel_status`` entries visible to the visitor, of one municipality (name or id) or all.

    Raises ``tk.ObjectNotFound`` for an unknown municipality."""
    data_dict = {"organization": organization} if organization else {}
    return tk.get_action("pegel_status")(visitor_context(), data_dict)["stations"]


def municipalities() -> list[dict]:
    """Name and title of every municipality (organisation), by title, for the filter."""
    organizations = tenants.all_organizations(visitor_context(), {"all_fields": True, "sort": "title asc"})
    return [{"name": org["name"], "title": org.get("title") or org["name"]} for org in organizations]


def page(kommune: str | None) -> dict:
    """Template variables of ``/pegel``: the stations (filtered by the municipality named in the URL), the
    municipalities for the filter, the legend and the map settings. An unknown municipality gives a German
    notice and all stations rather than an error page (the name comes from a hand-edited URL)."""
    kommune = (kommune or "").strip()
    choices = municipalities()
    selected, notice = None, None
    if kommune:
        selected = next((org for org in choices if org["name"] == kommune), None)
        if selected is None:
            notice = tk._("There is no municipality \"{name}\"; all stations are shown.").format(name=kommune)
    found = stations(selected["name"] if selected else None)
    return {
        "stations": found,
        "map_stations": map_entries(found),
        "municipalities": choices,
        "selected": selected,
        "notice": notice,
        "legend": legend(),
        "refresh_seconds": refresh_seconds(),
    }


def tenant_widgets(tenant: dict) -> list[dict]:
    """One widget "Pegelstände" for a municipality's page, only when it has stations the visitor may see."""
    try:
        found = stations(tenant["id"])
    except tk.ObjectNotFound:
        return []
    if not found:
        return []
    return [{
        "title": tk._("Water levels"),
        "template": WIDGET_TEMPLATE,
        "data": {"stations": found, "map_stations": map_entries(found), "legend": legend(),
                 "refresh_seconds": refresh_seconds()},
        "order": 10,
    }]


def map_entries(entries: list[dict]) -> list[dict]:
    """The part of each ``pegel_status`` entry that the map and list script needs."""
    trimmed = []
    for entry in entries:
        item = {key: entry.get(key) for key in MAP_FIELDS}
        for key, fields in MAP_NESTED.items():
            item[key] = {field: (entry.get(key) or {}).get(field) for field in fields}
        trimmed.append(item)
    return trimmed


def legend() -> list[dict]:
    """The warning classes with their German labels, in the order of the legend."""
    labels = action.class_labels()
    return [{"class": name, "label": labels[name]} for name in LEGEND_CLASSES]


def refresh_seconds() -> int:
    return max(10, tk.config.get(REFRESH_OPTION))


# Formatting for the server-rendered list (pegel-dashboard.js formats the same way after a refresh).

def local_time(iso: str | None) -> str:
    """A UTC ISO 8601 time as German local time, ``24.11.2026, 06:54``; empty for none or garbage."""
    if not iso:
        return ""
    try:
        time = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if time.tzinfo is None:
        time = time.replace(tzinfo=dt.timezone.utc)
    return time.astimezone(LOCAL_ZONE).strftime("%d.%m.%Y, %H:%M")


def age(minutes: float | None) -> str:
    """How old a reading is, in words: "vor 5 Min.", "vor 3 Std.", "vor 2 Tagen"; empty without a reading."""
    if minutes is None:
        return ""
    if minutes < 1:
        return tk._("just now")
    if minutes < 60:
        return tk._("{n} min ago").format(n=int(minutes))
    if minutes < 48 * 60:
        return tk._("{n} h ago").format(n=int(minutes // 60))
    days = int(minutes // (24 * 60))
    return tk.ungettext("{n} day ago", "{n} days ago", days).format(n=days)


def value(latest: dict | None) -> str:
    """The value of a reading with its unit in the page's language ("335,5 cm"); empty without a reading."""
    if not latest or latest.get("value") is None:
        return ""
    # Rounded as pegel-dashboard.js does (Math.round(value * 10) / 10: halves up), so a refresh shows the same text.
    number = formatters.localised_number(math.floor(float(latest["value"]) * 10 + 0.5) / 10)
    return f"{number} {latest.get('unit') or ''}".strip()


TREND_ARROWS = {wl.RISING: "\u2197", wl.FALLING: "\u2198", wl.STEADY: "\u2192"}


def trend_arrow(trend: Any) -> str:
    return TREND_ARROWS.get(trend, "")


# Main navigation: "Pegel" after "Kommunen" (ckanext-tenant's header builds the list; this keeps it the owner).

NAV_AFTER_ENDPOINT = "tenant.index"


def main_nav(nav: str) -> Markup:
    """The items of the main navigation with a "Pegel" item inserted after the municipalities' item, or
    appended when there is none (ckanext-tenant not loaded)."""
    item = tk.h.build_nav_main(("pegel.index", tk._("Gauges"), ["pegel"]))
    nav = Markup(nav)
    try:
        after = tk.h.url_for(NAV_AFTER_ENDPOINT)
    except BuildError:  # the route only exists with ckanext-tenant
        return nav + item
    match = re.search(r'<li[^>]*>\s*<a href="' + re.escape(after) + r'"[^>]*>.*?</li>', str(nav), re.S)
    if match is None:
        return nav + item
    return Markup(str(nav)[:match.end()]) + item + Markup(str(nav)[match.end():])
