"""ckanext-harvest harvester for PEGELONLINE (REST API v2): one DCAT-AP.de dataset per gauging station.

Gather reads the station list in one request (two if both waters and stations are filtered), keeps the
stations the source's configuration asks for, decides each station's owner and compares each station with
what the previous harvest stored (gather.py): only new and changed stations are fetched and imported, and
stations that were harvested before but are gone from the feed are withdrawn.

Nothing that goes wrong with the feed touches a dataset: an unreachable or broken feed is a gather error and
creates no objects (so nothing is withdrawn either), a broken station record becomes an object error while
the other stations import, and its dataset stays as it was.

Withdrawn stations' datasets are deleted the way CKAN deletes (state "deleted": gone from search, the
catalog and the API for everyone but sysadmins, listed in the trash, restorable), never purged: their
resources, the DataStore table and its readings stay. A station that comes back is harvested into the same
dataset again, which is active again.
"""
from __future__ import annotations

import json
import logging
import uuid as uuidlib

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckanext.harvest.harvesters.base import HarvesterBase
from ckanext.harvest.model import HarvestObject

from ckanext.pegel import pegelonline, series
from ckanext.pegel.harvesters import config as source_config
from ckanext.pegel.harvesters import gather, indexing, mapping, messages

log = logging.getLogger(__name__)

_COMMITS = indexing.DeferredCommits()


class PegelonlineHarvester(HarvesterBase):
    """Harvest source type ``pegelonline``; the source URL is the API's base URL."""

    # IHarvester

    def info(self):
        return {
            "name": "pegelonline",
            "title": "PEGELONLINE",
            "description": tk._("Water level gauges of the federal waterways (PEGELONLINE REST API v2): "
                                "one dataset per station with its live series"),
        }

    def validate_config(self, config):
        try:
            return source_config.parse(config).to_json()
        except source_config.ConfigError as error:
            raise ValueError(str(error))

    def get_original_url(self, harvest_object_id):
        obj = HarvestObject.get(harvest_object_id)
        return pegelonline.Client(obj.source.url).station_url(obj.guid) if obj else None

    def gather_stage(self, harvest_job):
        source = harvest_job.source
        try:
            with messages.site_locale():
                config = source_config.parse(source.config)
                owners = source_config.Owners(config, model.Package.get(source.id).owner_org)
        except source_config.ConfigError as error:
            self._save_gather_error(str(error), harvest_job)
            return []
        client = pegelonline.Client(source.url, timeout=config.timeout_seconds)
        try:
            records = gather.read_feed(client, config)
        except pegelonline.FeedError as error:
            log.warning("PEGELONLINE source %s: %s", source.url, error)
            self._save_gather_error(messages.feed_error(error, config.timeout_seconds), harvest_job)
            return []
        if not records:
            self._save_gather_error(messages.empty_feed(source.url), harvest_job)
            return []
        result = gather.gather(harvest_job, records, config, owners, client.base_url)
        for message in result.errors:
            self._save_gather_error(message, harvest_job)
        log.info("PEGELONLINE source %s: %d stations to import or withdraw, %d unchanged, %d outside every "
                 "municipality", source.url, len(result.object_ids), result.unchanged, result.outside)
        return result.object_ids

    def fetch_stage(self, harvest_object):
        # Gather fetched every station with the list; a broken record is reported here, per station.
        if _extra(harvest_object, gather.STATUS) == gather.BROKEN:
            self._save_object_error(_extra(harvest_object, gather.PROBLEM), harvest_object, "Fetch")
            return False
        return True

    def import_stage(self, harvest_object):
        try:
            if _extra(harvest_object, gather.STATUS) == gather.WITHDRAW:
                return self._withdraw(harvest_object)
            return self._import(harvest_object)
        finally:
            _COMMITS.commit_if_due(job_done=not _others_pending(harvest_object))

    # Import

    def _context(self):
        return {"user": self._get_user_name(), "ignore_auth": True}

    def _import(self, harvest_object):
        content = json.loads(harvest_object.content)
        station = content["station"]
        existing = _existing_package(harvest_object)
        package = mapping.dataset(station, pegelonline.Client(content["base_url"]), content["owner_org"])
        try:
            with _COMMITS.deferred():
                if existing is None:
                    series_id = self._create(harvest_object, package, station)
                else:
                    series_id = self._update(harvest_object, package, existing)
        except tk.ValidationError as error:
            model.Session.rollback()
            self._save_object_error(messages.not_accepted(station["uuid"], error), harvest_object, "Import")
            return False
        except Exception as error:  # the database or Solr failing: this station fails, the others go on
            log.exception("PEGELONLINE: dataset of station %s", station["uuid"])
            model.Session.rollback()
            self._save_object_error(messages.not_saved(station["uuid"], error), harvest_object, "Import")
            return False
        try:
            series.ensure_series_table(self._context(), series_id)
        except Exception as error:  # the dataset is saved; the next harvest tries the table again
            log.exception("PEGELONLINE: series table of station %s", station["uuid"])
            model.Session.rollback()
            with _COMMITS.deferred():
                tk.get_action("resource_patch")(self._context(), {"id": series_id, "datastore_active": False})
            self._save_object_error(messages.no_series_table(station["uuid"], error), harvest_object, "Import")
        return True

    def _create(self, harvest_object, package, station):
        """Create the station's dataset; returns the id of its series resource."""
        package.update(id=str(uuidlib.uuid4()), name=self._ensure_name_is_unique(mapping.ideal_name(station)))
        series_resource = mapping.series_resource(package)
        series_resource["id"] = str(uuidlib.uuid4())
        _make_current(harvest_object, package["id"])
        # The harvest plugin indexes the dataset with its harvest object: the object must exist first.
        model.Session.execute(sa.text("SET CONSTRAINTS harvest_object_package_id_fkey DEFERRED"))
        model.Session.flush()
        tk.get_action("package_create")(dict(self._context(), return_id_only=True), package)
        return series_resource["id"]

    def _update(self, harvest_object, package, existing):
        """Rewrite the station's dataset (and reactivate it); returns the id of its series resource."""
        current = tk.get_action("package_show")(self._context(), {"id": existing.id})
        package.update(id=current["id"], name=current["name"], state="active")
        package["resources"] = mapping.merge_resources(package["resources"], current["resources"])
        series_resource = mapping.series_resource(package)
        series_resource.setdefault("id", str(uuidlib.uuid4()))
        _make_current(harvest_object, current["id"])
        tk.get_action("package_update")(dict(self._context(), return_id_only=True), package)
        return series_resource["id"]

    def _withdraw(self, harvest_object):
        package = model.Package.get(harvest_object.package_id)
        if package is not None and package.state == "active":
            try:
                with _COMMITS.deferred():
                    tk.get_action("package_delete")(self._context(), {"id": package.id})
            except Exception as error:
                model.Session.rollback()
                self._save_object_error(messages.not_withdrawn(harvest_object.guid, error), harvest_object,
                                        "Import")
                return False
            log.info("PEGELONLINE: station %s is gone from the feed, dataset %s withdrawn", harvest_object.guid,
                     package.name)
        # No object of the station is current any more: the station is no longer expected in the feed.
        _objects_of_station(harvest_object).update({"current": False}, synchronize_session=False)
        harvest_object.current = False
        harvest_object.save()
        return True


def _extra(harvest_object, key):
    return next((extra.value for extra in harvest_object.extras if extra.key == key), None)


def _objects_of_station(harvest_object):
    return (model.Session.query(HarvestObject)
            .filter(HarvestObject.harvest_source_id == harvest_object.harvest_source_id)
            .filter(HarvestObject.guid == harvest_object.guid)
            .filter(HarvestObject.id != harvest_object.id))


def _existing_package(harvest_object):
    """The station's dataset from an earlier harvest of this source, also when it was withdrawn (None if
    there is none or it was purged)."""
    row = (_objects_of_station(harvest_object)
           .filter(HarvestObject.package_id != None)  # noqa: E711
           .order_by(HarvestObject.current.desc(), HarvestObject.gathered.desc())
           .with_entities(HarvestObject.package_id)
           .first())
    return model.Package.get(row[0]) if row else None


def _make_current(harvest_object, package_id):
    _objects_of_station(harvest_object).update({"current": False}, synchronize_session=False)
    harvest_object.package_id = package_id
    harvest_object.current = True
    harvest_object.add()


def _others_pending(harvest_object):
    """Whether other objects of the job still wait for their fetch or import."""
    return model.Session.query(
        model.Session.query(HarvestObject.id)
        .filter(HarvestObject.harvest_job_id == harvest_object.harvest_job_id)
        .filter(HarvestObject.state.in_(("WAITING", "FETCH", "IMPORT")))
        .filter(HarvestObject.id != harvest_object.id)
        .exists()).scalar()
