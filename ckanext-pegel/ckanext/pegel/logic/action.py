"""Actions of ckanext-pegel: ``pegel_status`` (state of every station) and the check of Meldestufen on save."""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.pegel import series
from ckanext.pegel import warning_levels as wl

__all__ = ["pegel_status", "pegel_series", "resource_create", "resource_update", "package_create", "package_update"]

STALE_AFTER_OPTION = "ckanext.pegel.stale_after_minutes"
# Ids per package_search call and per DataStore query (Solr's default maxBooleanClauses is 1024).
BATCH = 200


def class_labels() -> dict[str, str]:
    """German labels (via the catalogue) of the warning classes of ``warning_levels``."""
    return {
        wl.BELOW_1: tk._("Below Meldestufe 1"),
        "meldestufe_1": tk._("Meldestufe 1"),
        "meldestufe_2": tk._("Meldestufe 2"),
        "meldestufe_3": tk._("Meldestufe 3"),
        "meldestufe_4": tk._("Meldestufe 4"),
        wl.LOW: tk._("Low water (at or below MNW)"),
        wl.NORMAL: tk._("Normal (between MNW and MHW)"),
        wl.HIGH: tk._("High water (at or above MHW)"),
        wl.UNKNOWN: tk._("No classification"),
    }


def trend_labels() -> dict[str, str]:
    return {wl.RISING: tk._("rising"), wl.FALLING: tk._("falling"), wl.STEADY: tk._("steady")}


@tk.side_effect_free
def pegel_status(context, data_dict):
    """The current state of every water-level station the caller may see.

    :param organization: name or id of a municipality (organisation): only its stations (optional)
    :returns: ``{"stale_after_minutes": int, "stations": [...]}``, one entry per station with ``station``,
        ``resource_id``, ``dataset`` {name, title}, ``organization`` {name, title}, ``coordinates``
        [lon, lat] or null, ``latest`` {value, unit, time (UTC ISO 8601)} or null, ``trend`` (+ label),
        ``level`` {class, label, severity}, ``thresholds`` {kind, levels, reference_lines, unit},
        ``age_minutes`` and ``stale``. Sorted by severity (highest first), then dataset title.
    """
    tk.check_access("pegel_status", context, data_dict)
    organization = _organization(data_dict.get("organization"))
    packages = _visible_station_packages(context, organization)
    entries = []
    for package in packages:
        resource = _series_resource(package)
        if resource is not None:
            entries.append((package, resource))
    readings = latest_readings([resource["id"] for _, resource in entries], wl.TREND_READINGS)
    stale_after = tk.config.get(STALE_AFTER_OPTION)
    now = dt.datetime.now(dt.timezone.utc)
    labels, trends = class_labels(), trend_labels()
    stations = [_station(package, resource, readings.get(resource["id"], []), now, stale_after, labels, trends)
                for package, resource in entries]
    stations.sort(key=lambda s: (-s["level"]["severity"], s["dataset"]["title"] or "", s["station"]))
    return {"stale_after_minutes": stale_after, "stations": stations}


def _station(package, resource, rows, now, stale_after, labels, trends) -> dict:
    limits = wl.thresholds(resource)
    latest = rows[0] if rows else None
    if latest is not None and limits.unit is None:
        limits.unit = latest["unit"]
    level_class = wl.classify(latest["value"] if latest else None, limits)
    trend = wl.trend([row["value"] for row in rows])
    age = wl.age_minutes(latest["time"], now) if latest else None
    organization = package.get("organization") or {}
    return {
        "station": resource[series.STATION_FIELD],
        "series": resource.get(series.SERIES_FIELD),
        "resource_id": resource["id"],
        "dataset": {"id": package["id"], "name": package["name"], "title": package.get("title")},
        "organization": {"name": organization.get("name"), "title": organization.get("title")},
        "private": bool(package.get("private")),
        "coordinates": _coordinates(package),
        "latest": None if latest is None else {
            "value": latest["value"], "unit": latest["unit"],
            "time": latest["time"].astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")},
        "trend": trend,
        "trend_label": trends.get(trend) if trend else None,
        "level": {"class": level_class, "label": labels[level_class], "severity": wl.severity(level_class)},
        "thresholds": limits.as_dict(),
        "age_minutes": age,
        "stale": wl.is_stale(age, stale_after),
    }


def _organization(value: Any):
    if not value:
        return None
    group = model.Group.get(str(value))
    if group is None or not group.is_organization or group.state != "active":
        raise tk.ObjectNotFound(tk._("Municipality not found: {name}").format(name=value))
    return group


def _station_package_ids() -> list[str]:
    """Ids of active datasets with an active resource marked as a series (cheap pre-filter on the resource
    table; resource fields are not indexed for package_search). The caller's permissions are applied after."""
    resource, package = model.resource_table, model.package_table
    extras = sa.cast(resource.c.extras, sa.UnicodeText)
    rows = model.Session.execute(
        sa.select(resource.c.package_id).distinct()
        .select_from(resource.join(package, package.c.id == resource.c.package_id))
        .where(resource.c.state == "active", package.c.state == "active",
               extras.like(f'%"{series.STATION_FIELD}"%'), extras.like(f'%"{series.SERIES_FIELD}"%')))
    return [row[0] for row in rows]


def _visible_station_packages(context, organization) -> list[dict]:
    """The station datasets as package_search shows them to the caller (private ones only for members)."""
    ids = _station_package_ids()
    packages = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        fq = "id:(" + " OR ".join(f'"{package_id}"' for package_id in chunk) + ")"
        if organization is not None:
            fq += f' +owner_org:"{organization.id}"'
        result = tk.get_action("package_search")(
            {"user": context.get("user"), "auth_user_obj": context.get("auth_user_obj")},
            {"fq": fq, "rows": len(chunk), "include_private": True})
        packages.extend(result["results"])
    return packages


def _series_resource(package: dict) -> dict | None:
    for resource in package.get("resources", []):
        if resource.get(series.STATION_FIELD) and resource.get(series.SERIES_FIELD) == series.WATER_LEVEL:
            return resource
    return None


def _coordinates(package: dict) -> list[float] | None:
    """[lon, lat] of the first point-like centroid among the dataset's spatial coverage areas."""
    areas = package.get("spatial_coverage") or []
    if isinstance(areas, str):
        try:
            areas = json.loads(areas)
        except ValueError:
            return None
    for area in areas if isinstance(areas, list) else []:
        centroid = area.get("centroid") if isinstance(area, dict) else None
        try:
            geometry = json.loads(centroid) if isinstance(centroid, str) else centroid
            lon, lat = geometry["coordinates"][:2]
            return [float(lon), float(lat)]
        except (ValueError, TypeError, KeyError):
            continue
    return None


def latest_readings(resource_ids: list[str], count: int) -> dict[str, list[dict]]:
    """The newest ``count`` readings of each series (newest first), one DataStore query per batch of
    series; series without a table (or with another layout) are left out."""
    from ckanext.datastore.backend.postgres import get_read_engine

    readings: dict[str, list[dict]] = {}
    if not resource_ids:
        return readings
    engine = get_read_engine()
    with engine.connect() as connection:
        tables = {row[0] for row in connection.execute(sa.text(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = ANY(:ids) AND column_name IN ('time', 'value', 'unit') "
            "GROUP BY table_name HAVING count(*) = 3"), {"ids": list(resource_ids)})}
        existing = [resource_id for resource_id in resource_ids if resource_id in tables]
        for start in range(0, len(existing), BATCH):
            chunk = existing[start:start + BATCH]
            parts = [
                f'(SELECT :id{i} AS resource_id, "time", "value", "unit" FROM "{_identifier(resource_id)}" '
                f'ORDER BY "time" DESC LIMIT :count)'
                for i, resource_id in enumerate(chunk)]
            params = {f"id{i}": resource_id for i, resource_id in enumerate(chunk)}
            params["count"] = count
            for row in connection.execute(sa.text(" UNION ALL ".join(parts)), params):
                readings.setdefault(row.resource_id, []).append(
                    {"time": row.time, "value": row.value, "unit": row.unit})
    for rows in readings.values():
        rows.sort(key=lambda row: row["time"], reverse=True)
    return readings


def _identifier(name: str) -> str:
    return name.replace('"', '""')


# Chart data: the readings of one series over a range, downsampled in PostgreSQL.

RANGES = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
DEFAULT_POINTS = 500
MAX_POINTS = 2000
MIN_POINTS = 10


def _series_params(data_dict: dict) -> tuple[str, str, int]:
    errors: dict = {}
    resource_id = str(data_dict.get("resource_id") or "").strip()
    if not resource_id:
        errors["resource_id"] = [tk._("Missing value")]
    range_key = data_dict.get("range") or "24h"
    if not isinstance(range_key, str) or range_key not in RANGES:
        errors["range"] = [tk._("Unknown range \"{range}\"; allowed are {allowed}").format(
            range=range_key, allowed=", ".join(RANGES))]
    points = data_dict.get("points", DEFAULT_POINTS)
    try:
        points = int(points)
        if isinstance(data_dict.get("points"), bool) or not MIN_POINTS <= points:
            raise ValueError
    except (TypeError, ValueError):
        errors["points"] = [tk._("points must be a whole number of at least {minimum}").format(minimum=MIN_POINTS)]
    if errors:
        raise tk.ValidationError(errors)
    return resource_id, range_key, min(points, MAX_POINTS)


def _iso(time: dt.datetime) -> str:
    return time.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@tk.side_effect_free
def pegel_series(context, data_dict):
    """The readings of a water-level series over a range, for the chart of ``pegel_view``.

    :param resource_id: id of a series resource (marked with ``pegel_station`` and ``pegel_series``)
    :param range: ``24h`` (default), ``7d`` or ``30d``, ending now
    :param points: the most buckets to return (default 500, at most 2000)
    :returns: ``start`` and ``end`` (UTC ISO 8601), ``aggregated`` (false: raw readings, the range holds
        no more than ``points`` of them), ``bucket_seconds`` (null for raw readings), ``unit``, ``buckets``
        (``[time of the bucket's start, min, max, mean, count]``, oldest first; a raw reading is
        ``[time, value, value, value, 1]``), ``thresholds`` and ``status`` (the station's entry of
        ``pegel_status``, so chart and map agree).
    """
    resource_id, range_key, points = _series_params(data_dict)
    tk.check_access("pegel_series", context, data_dict)
    caller = {"user": context.get("user"), "auth_user_obj": context.get("auth_user_obj")}
    resource = tk.get_action("resource_show")(dict(caller), {"id": resource_id})
    if not resource.get(series.STATION_FIELD) or not resource.get(series.SERIES_FIELD):
        raise tk.ValidationError({"resource_id": [tk._("This resource is not a water-level series")]})
    package = tk.get_action("package_show")(dict(caller), {"id": resource["package_id"]})

    now = dt.datetime.now(dt.timezone.utc)
    start = now - RANGES[range_key]
    # Whole minutes, so that at most ``points`` buckets cover the range.
    step = 60 * math.ceil(RANGES[range_key].total_seconds() / (points * 60))
    aggregated, buckets = _buckets(resource["id"], start, now, step, points)

    readings = latest_readings([resource["id"]], wl.TREND_READINGS).get(resource["id"], [])
    status = _station(package, resource, readings, now, tk.config.get(STALE_AFTER_OPTION),
                      class_labels(), trend_labels())
    return {
        "resource_id": resource["id"],
        "station": resource[series.STATION_FIELD],
        "range": range_key,
        "start": _iso(start),
        "end": _iso(now),
        "aggregated": aggregated,
        "bucket_seconds": step if aggregated else None,
        "unit": (status["latest"] or {}).get("unit") or status["thresholds"]["unit"],
        "buckets": buckets,
        "thresholds": status["thresholds"],
        "status": status,
    }


def _buckets(resource_id: str, start: dt.datetime, end: dt.datetime, step: int, points: int
             ) -> tuple[bool, list[list]]:
    """ONE query: the readings in [start, end) grouped into buckets of ``step`` seconds counted from
    ``start``, or one row per reading when there are no more than ``points`` of them."""
    from ckanext.datastore.backend.postgres import get_read_engine

    from ckanext.pegel.ingest import store

    engine = get_read_engine()
    if not store.table_exists(engine, resource_id):
        return False, []
    query = sa.text(f"""
        WITH r AS MATERIALIZED (
            SELECT "time", "value" FROM "{_identifier(resource_id)}"
            WHERE "time" >= :start AND "time" < :end),
        n AS (SELECT count(*) AS total FROM r)
        SELECT CASE WHEN n.total <= :points THEN r."time"
                    ELSE date_bin(make_interval(secs => :step), r."time", :start) END AS bucket,
               min(r."value") AS low, max(r."value") AS high, avg(r."value") AS mean,
               count(*) AS readings, n.total <= :points AS raw
        FROM r CROSS JOIN n
        GROUP BY 1, n.total
        ORDER BY 1""")
    with engine.connect() as connection:
        rows = connection.execute(query, {"start": start, "end": end, "points": points, "step": step}).all()
    buckets = [[_iso(row.bucket), row.low, row.high, round(row.mean, 3), row.readings] for row in rows]
    aggregated = bool(rows) and not rows[0].raw
    return aggregated, buckets


# Meldestufen: checked whenever a resource is saved, alone or within its dataset.

def _check_resource(resource: dict, errors: dict) -> None:
    if wl.WARNING_LEVELS_FIELD not in resource:
        return
    raw = wl.from_form(resource[wl.WARNING_LEVELS_FIELD])
    try:
        levels = wl.parse_warning_levels(raw)
    except wl.InvalidWarningLevels as error:
        errors.setdefault(wl.WARNING_LEVELS_FIELD, []).append(_warning_levels_message(error))
        return
    resource[wl.WARNING_LEVELS_FIELD] = wl.dump_warning_levels(levels) if levels else ""


def _warning_levels_message(error: wl.InvalidWarningLevels) -> str:
    example = '{"1": 250, "2": 320, "3": 400, "4": 480}'
    if error.reason == wl.REASON_KEY:
        return tk._('Unknown Meldestufe "{key}"; allowed are 1, 2, 3 and 4').format(key=error.detail)
    if error.reason == wl.REASON_NUMBER:
        return tk._("Meldestufe {key} must be a number").format(key=error.detail)
    if error.reason == wl.REASON_ORDER:
        return tk._("The Meldestufen must increase from 1 to 4 ({detail})").format(detail=error.detail)
    return tk._("The Meldestufen must be a JSON object such as {example}").format(example=example)


def _check_resources(resources: list) -> None:
    errors: dict = {}
    for resource in resources:
        if isinstance(resource, dict):
            _check_resource(resource, errors)
    if errors:
        raise tk.ValidationError(errors)


@tk.chained_action
def resource_create(next_action, context, data_dict):
    _check_resources([data_dict])
    return next_action(context, data_dict)


@tk.chained_action
def resource_update(next_action, context, data_dict):
    # resource_patch ends here too
    _check_resources([data_dict])
    _keep_station_fields(data_dict)
    return next_action(context, data_dict)


# Written by the harvester, not shown in the resource form: an edit in the form (which replaces the whole
# resource) must not turn a series into an ordinary resource. Setting them explicitly still works.
STATION_FIELDS = (series.STATION_FIELD, series.SERIES_FIELD, wl.CHARACTERISTIC_VALUES_FIELD)


def _keep_station_fields(data_dict: dict) -> None:
    missing = [name for name in STATION_FIELDS if name not in data_dict]
    if not missing or not data_dict.get("id"):
        return
    resource = model.Resource.get(data_dict["id"])
    stored = (resource.extras or {}) if resource is not None else {}
    for name in missing:
        if name in stored:
            data_dict[name] = stored[name]


@tk.chained_action
def package_create(next_action, context, data_dict):
    _check_resources(data_dict.get("resources") or [])
    return next_action(context, data_dict)


@tk.chained_action
def package_update(next_action, context, data_dict):
    # package_patch ends here too
    _check_resources(data_dict.get("resources") or [])
    return next_action(context, data_dict)
