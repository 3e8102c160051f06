"""The gather stage of the PEGELONLINE harvester: which stations to import, which are unchanged, which are gone.

A station's harvest object holds the station's canonical metadata together with its owner, the base URL and
the mapping version (``content``). A station whose content equals that of its current object, and whose
dataset is active with its live series table, is unchanged: it gets an object that is complete at once
("not modified" in the job report) and is not fetched or imported, so an unchanged feed writes no dataset.
All objects of a job are written in one transaction.
"""
from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass

import ckan.model as model
from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

from ckanext.pegel import pegelonline
from ckanext.pegel.harvesters import mapping, messages

# Part of every object's content: raising it makes the next harvest rewrite every dataset (after a
# change of the mapping in mapping.py).
MAPPING_VERSION = 1
STATUS = "status"
WITHDRAW, BROKEN = "withdraw", "broken"
PROBLEM = "problem"


@dataclass
class Known:
    """What earlier harvests of the source left for a station: its current object and dataset."""
    content: str | None
    package_id: str | None
    intact: bool  # the dataset is active and its live series has its table


@dataclass
class Gathered:
    object_ids: list  # to fetch and import
    errors: list  # messages for the job (German through the catalogue)
    unchanged: int = 0
    outside: int = 0


def read_feed(client, config) -> list:
    """The raw station records the configuration asks for (the server may ignore the filters)."""
    ask = {"characteristic_values": True}
    if not (config.waters and config.stations):
        return client.stations(waters=config.waters, ids=config.stations, **ask)
    # Either filter matches: two requests, and a station both return is one station.
    records = client.stations(waters=config.waters, **ask)
    known = {pegelonline.record_uuid(record) for record in records} - {None}
    return records + [record for record in client.stations(ids=config.stations, **ask)
                      if pegelonline.record_uuid(record) not in known]


def gather(harvest_job, records, config, owners, base_url) -> Gathered:
    """Create the job's objects for the feed's records (one commit) and return the ids to process."""
    known = known_stations(harvest_job.source.id)
    result, objects, seen = Gathered([], []), [], set()
    for index, record in enumerate(records):
        guid = pegelonline.record_uuid(record)
        if guid is None:
            result.errors.append(messages.no_uuid(index + 1))
            continue
        if guid in seen:
            result.errors.append(messages.listed_twice(guid))
            continue
        if not config.matches(record) and not (guid in known and _is_broken(record)):
            continue  # (a station harvested before whose record is broken is reported, not withdrawn)
        try:
            station = pegelonline.parse_station(record)
        except pegelonline.StationError as error:
            seen.add(guid)  # still in the feed: its dataset must not be withdrawn
            objects.append(_object(harvest_job, guid, json.dumps(record, sort_keys=True), {
                STATUS: BROKEN, PROBLEM: messages.station_error(guid, error)}))
            continue
        if pegelonline.water_level(station) is None:
            continue  # a station without water level (discharge or temperature only)
        owner = owners.owner_for(station)
        if owner is None:
            result.outside += 1
            continue
        seen.add(guid)
        content = json.dumps({"station": station, "owner_org": owner, "base_url": base_url,
                              "mapping": MAPPING_VERSION}, sort_keys=True)
        before = known.get(guid)
        if before is not None and before.intact and before.content == content:
            result.unchanged += 1
            objects.append(_object(harvest_job, guid, None, package_id=before.package_id, state="COMPLETE",
                                   report_status="not modified"))
            continue
        objects.append(_object(harvest_job, guid, content))
    for guid, before in known.items():
        if guid not in seen and before.package_id:
            objects.append(_object(harvest_job, guid, None, {STATUS: WITHDRAW}, package_id=before.package_id))
    # ids are set when the objects are made: reading them after the commit would reload every object
    result.object_ids = [obj.id for obj in objects if obj.report_status != "not modified"]
    model.Session.add_all(objects)
    model.Session.commit()
    return result


def known_stations(source_id: str) -> dict[str, Known]:
    """The current object of every station the source harvested, with the state of its dataset."""
    rows = (model.Session.query(HarvestObject.guid, HarvestObject.content, HarvestObject.package_id,
                                model.Package.state)
            .outerjoin(model.Package, model.Package.id == HarvestObject.package_id)
            .filter(HarvestObject.harvest_source_id == source_id)
            .filter(HarvestObject.current == True)  # noqa: E712
            .all())
    package_ids = [package_id for _, _, package_id, state in rows if state == "active"]
    with_table = set()
    if package_ids:
        resource = model.resource_table
        for package_id, extras in model.Session.execute(
                resource.select().with_only_columns(resource.c.package_id, resource.c.extras)
                .where(resource.c.package_id.in_(package_ids), resource.c.state == "active")):
            extras = extras if isinstance(extras, dict) else json.loads(extras or "{}")
            if extras.get(mapping.ROLE_FIELD) == mapping.SERIES and extras.get("datastore_active") is True:
                with_table.add(package_id)
    return {guid: Known(content, package_id, state == "active" and package_id in with_table)
            for guid, content, package_id, state in rows}


def _is_broken(record) -> bool:
    try:
        pegelonline.parse_station(record)
    except pegelonline.StationError:
        return True
    return False


def _object(harvest_job, guid, content, extras=None, package_id=None, **fields):
    return HarvestObject(id=str(uuidlib.uuid4()), guid=guid, job=harvest_job, content=content, package_id=package_id,
                         extras=[HarvestObjectExtra(key=k, value=v) for k, v in (extras or {}).items()], **fields)
