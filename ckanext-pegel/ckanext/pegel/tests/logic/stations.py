"""A station dataset with its series resource, table and readings, for the tests of the pegel actions."""
import datetime as dt
import json
import uuid

from ckan.tests import factories as ckan_factories

from ckanext.pegel import series
from ckanext.pegel.ingest import store
from ckanext.suedwest.tests import factories

# Meldestufen 1-4 of a typical small river gauge, in cm
MELDESTUFEN = '{"1": 250, "2": 320, "3": 400, "4": 480}'


def people_and_municipalities() -> dict:
    """A sysadmin; Landkreis Kusel with a member; Stadt Trier; and a user who belongs to neither."""
    sysadmin = ckan_factories.Sysadmin()
    member = ckan_factories.User()
    outsider = ckan_factories.User()
    kusel = ckan_factories.Organization(name="landkreis-kusel", title="Landkreis Kusel",
                                        users=[{"name": member["name"], "capacity": "member"}])
    trier = ckan_factories.Organization(name="stadt-trier", title="Stadt Trier")
    return {"sysadmin": sysadmin, "member": member, "outsider": outsider, "kusel": kusel, "trier": trier}


def create_station(sysadmin, org, title, readings=(), private=False, **fields):
    """A station of ``org`` (a point near Kusel) whose series holds ``readings``, (minutes ago, value) pairs in cm
    written through the ingest store; ``fields`` go onto the series resource. Returns the series resource."""
    dataset = factories.Dataset(
        title=title, owner_org=org["id"], private=private, user=sysadmin,
        spatial_coverage=[{"text": title, "centroid": json.dumps({"type": "Point", "coordinates": [7.3984, 49.5393]})}],
        resources=[{"url": "http://example.org/series", "name": "Wasserstand",
                    series.STATION_FIELD: f"station-{uuid.uuid4().hex[:8]}", series.SERIES_FIELD: series.WATER_LEVEL,
                    **fields}])
    resource = dataset["resources"][0]
    series.ensure_series_table({"user": sysadmin["name"]}, resource["id"])
    now = dt.datetime.now(dt.timezone.utc)
    store.write_series(resource["id"], [
        {"time": now - dt.timedelta(minutes=ago), "value": value, "unit": "cm", "quality": "ok", "source": "ttn"}
        for ago, value in readings])
    return resource
