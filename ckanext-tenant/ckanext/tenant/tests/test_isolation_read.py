"""Isolation of reads: a municipality's private data (datasets, resources, the uploaded file, DataStore tables,
views, tags, activities, harvest sources and harvested records, see test_isolation_world.py) reaches its own
members and the sysadmins only, through every read path: the action API, pages, downloads, DCAT endpoints and
content negotiation, search tricks, autocompletion, activity streams and the DataStore.

Each read path is tried by people who must not see the data (anonymous, a user without organisation, and an admin,
an editor and a member of another municipality) and by people who must (a member of the owning municipality, and a
sysadmin) - the second half is the positive control: the path does show the data to whoever may read it.
"""
import json
from dataclasses import dataclass
from typing import Callable

import pytest

import ckan.model as model
from ckanext.activity.model import Activity

from ckanext.suedwest.tests import factories as dcatde
from ckanext.tenant.tests.test_isolation_world import (  # noqa: F401 (fixture)
    HARVESTED_CONTENT, UPLOAD_CONTENT, isolation_world, sysadmin_call, user_call,
)

OWNER = "kusel"
# (who, their municipality, whose data they try to read)
MUST_NOT_SEE = [("anonymous", None, OWNER), ("outsider", None, OWNER), ("admin", "kaiserslautern", OWNER),
                ("editor", "kusel", "sankt-wendel"), ("member", "sankt-wendel", "kaiserslautern")]
MUST_SEE = [("member", OWNER, OWNER), ("sysadmin", None, OWNER)]
MEMBERS, SYSADMINS, NOBODY = "members", "sysadmins", "nobody"


@dataclass(frozen=True)
class Read:
    """``seen(client, t)``: whether the client sees private data of municipality ``t`` on this path;
    ``shown_to``: who may see it there (members and sysadmins; sysadmins only; nobody, as on paths that list
    public data only)."""

    id: str
    seen: Callable
    shown_to: str = MEMBERS

    def __str__(self):
        return self.id


class Client:
    """Requests as one user (``None``: anonymous) that fail on any answer but 200, 403 and 404 (and a redirect to
    the login page): whatever a path refuses, it must not answer with a server error."""

    def __init__(self, app, user):
        self.app, self.user = app, user
        self.headers = {"Authorization": user["token"]} if user else {}

    def api(self, action, **data_dict):
        """The action's result, or None if it was refused."""
        response = self.app.post(f"/api/3/action/{action}", json=data_dict, headers=self.headers)
        assert response.status_code in (200, 403, 404), (action, response.status_code, response.body[:500])
        assert response.json["success"] is (response.status_code == 200)
        return response.json["result"] if response.status_code == 200 else None

    def page(self, url, **headers):
        """The page's body, or None if it was refused."""
        response = self.app.get(url, headers={**self.headers, **headers}, follow_redirects=False)
        if response.status_code == 302:
            assert "/user/login" in response.headers["Location"], response.headers["Location"]
            return None
        assert response.status_code in (200, 403, 404), (url, response.status_code, response.body[:500])
        return response.get_data() if response.status_code == 200 else None


def _text(value):
    """Searchable text of an API result or a page."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, ensure_ascii=False)


def _any(value, *needles):
    text = _text(value)
    return any(needle in text for needle in needles)


def _ids(result):
    return {d["id"] for d in (result or {}).get("results", [])}


def _search(c, t, **query):
    return t.private["id"] in _ids(c.api("package_search", include_private=True, rows=1000, **query))


def _activities(t):
    return t.private["id"], t.formerly_public["id"], t.private_view["title"]


READS = [
    # Datasets and search
    Read("package_show", lambda c, t: c.api("package_show", id=t.private["id"]) is not None),
    Read("package_search_include_private", lambda c, t: _search(c, t, q="*:*")),
    Read("package_search_fq_capacity_private", lambda c, t: _search(c, t, fq="capacity:private")),
    Read("package_search_q_by_id", lambda c, t: _search(c, t, q=f'id:"{t.private["id"]}"')),
    Read("package_search_q_capacity_and_title", lambda c, t: _search(
        c, t, q=f'capacity:private AND title:"Geheimsache {t.name}"')),
    Read("package_search_by_private_tag", lambda c, t: _search(c, t, fq=f'tags:"{t.private_tag}"')),
    Read("package_list", lambda c, t: _any(c.api("package_list"), t.private["name"]), NOBODY),
    Read("current_package_list_with_resources", lambda c, t: _any(
        c.api("current_package_list_with_resources", limit=1000), t.private["id"]), SYSADMINS),
    Read("organization_show_with_datasets", lambda c, t: _any(
        c.api("organization_show", id=t.org["id"], include_datasets=True), t.private["id"])),
    Read("member_list_of_packages", lambda c, t: _any(
        c.api("member_list", id=t.org["id"], object_type="package"), t.private["id"])),
    Read("package_autocomplete", lambda c, t: _any(c.api("package_autocomplete", q="Geheimsache"),
                                                   t.private["name"])),
    Read("util_dataset_autocomplete", lambda c, t: _any(
        c.page("/api/2/util/dataset/autocomplete?incomplete=Geheimsache"), t.private["name"])),
    Read("dataset_page", lambda c, t: _any(c.page(f"/dataset/{t.private['name']}"), f"Geheimsache {t.name}")),
    # Tags
    Read("tag_list", lambda c, t: _any(c.api("tag_list"), t.private_tag)),
    Read("tag_autocomplete", lambda c, t: _any(c.api("tag_autocomplete", q="geheimtag"), t.private_tag)),
    Read("tag_search", lambda c, t: _any(c.api("tag_search", query="geheimtag"), t.private_tag)),
    Read("util_tag_autocomplete", lambda c, t: _any(
        c.page("/api/2/util/tag/autocomplete?incomplete=geheimtag"), t.private_tag)),
    Read("tag_show", lambda c, t: c.api("tag_show", id=t.private_tag) is not None),
    # Resources, views and the uploaded file
    Read("resource_show", lambda c, t: c.api("resource_show", id=t.private_resource["id"]) is not None),
    Read("resource_view_list", lambda c, t: c.api("resource_view_list", id=t.private_resource["id"]) is not None),
    Read("resource_view_show", lambda c, t: c.api("resource_view_show", id=t.private_view["id"]) is not None),
    Read("resource_page", lambda c, t: _any(c.page(
        f"/dataset/{t.private['id']}/resource/{t.private_resource['id']}"), "Geheime Werte")),
    Read("download", lambda c, t: c.page(
        f"/dataset/{t.private['id']}/resource/{t.private_resource['id']}/download") == UPLOAD_CONTENT),
    Read("download_named_under_public_dataset", lambda c, t: c.page(
        f"/dataset/{t.dataset['id']}/resource/{t.private_resource['id']}/download") == UPLOAD_CONTENT),
    # DCAT
    Read("dataset_ttl", lambda c, t: _any(c.page(f"/dataset/{t.private['id']}.ttl"), t.private["id"])),
    Read("dataset_jsonld", lambda c, t: _any(c.page(f"/dataset/{t.private['name']}.jsonld"), t.private["id"])),
    Read("dataset_content_negotiation", lambda c, t: _any(
        c.page(f"/dataset/{t.private['name']}", Accept="text/turtle"), "dcat:Dataset")),
    Read("dcat_dataset_show", lambda c, t: c.api("dcat_dataset_show", id=t.private["id"], format="ttl") is not None),
    Read("catalog_ttl", lambda c, t: _any(c.page("/catalog.ttl"), t.private["id"]), NOBODY),
    Read("catalog_ttl_fq_capacity_private", lambda c, t: _any(
        c.page("/catalog.ttl?fq=capacity:private"), t.private["id"]), NOBODY),
    Read("catalog_ttl_q_by_id", lambda c, t: _any(
        c.page(f'/catalog.ttl?q=id:"{t.private["id"]}"'), t.private["id"]), NOBODY),
    Read("municipality_catalog_ttl", lambda c, t: _any(c.page(f"/kommune/{t.name}/catalog.ttl"), t.private["id"]),
         NOBODY),
    # DataStore
    Read("datastore_search", lambda c, t: c.api("datastore_search", resource_id=t.private_resource["id"])
         is not None),
    Read("datastore_search_by_alias", lambda c, t: c.api("datastore_search", resource_id=t.private_alias)
         is not None),
    Read("datastore_info", lambda c, t: c.api("datastore_info", id=t.private_resource["id"]) is not None),
    Read("datastore_search_sql", lambda c, t: c.api(
        "datastore_search_sql", sql=f'SELECT * FROM "{t.private_resource["id"]}"') is not None),
    Read("datastore_search_sql_by_alias", lambda c, t: c.api(
        "datastore_search_sql", sql=f'SELECT wert FROM "{t.private_alias}"') is not None),
    Read("datastore_table_metadata", lambda c, t: _any(c.api(
        "datastore_search", resource_id="_table_metadata", limit=10000), t.private_resource["id"]), SYSADMINS),
    Read("datastore_dump", lambda c, t: _any(c.page(f"/datastore/dump/{t.private_resource['id']}"), "42")),
    # Activities
    Read("package_activity_list", lambda c, t: bool(c.api("package_activity_list", id=t.private["id"]))),
    Read("package_activity_list_formerly_public", lambda c, t: bool(
        c.api("package_activity_list", id=t.formerly_public["id"]))),
    Read("organization_activity_list", lambda c, t: _any(
        c.api("organization_activity_list", id=t.org["id"], limit=100), *_activities(t)), NOBODY),
    Read("recently_changed_packages_activity_list", lambda c, t: _any(
        c.api("recently_changed_packages_activity_list", limit=100), *_activities(t))),
    Read("user_activity_list", lambda c, t: _any(
        c.api("user_activity_list", id=t.editor["id"], limit=100), *_activities(t))),
    Read("dashboard_activity_list", lambda c, t: _any(c.api("dashboard_activity_list", limit=100), *_activities(t))),
    Read("dataset_activity_page", lambda c, t: _any(
        c.page(f"/dataset/activity/{t.private['name']}"), t.private["name"])),
    Read("organization_activity_page", lambda c, t: _any(
        c.page(f"/organization/activity/{t.org['name']}"), t.private["name"], t.formerly_public["name"]), NOBODY),
    Read("user_activity_page", lambda c, t: _any(
        c.page(f"/user/activity/{t.editor['name']}"), t.private["name"], t.formerly_public["name"],
        t.private_view["title"])),
    Read("dashboard_page", lambda c, t: _any(c.page("/dashboard/"), t.formerly_public["name"])),
    # Harvesting
    Read("harvest_source_show", lambda c, t: c.api("harvest_source_show", id=t.private_source["id"]) is not None),
    Read("harvest_source_page", lambda c, t: _any(c.page(f"/harvest/{t.private_source['name']}"),
                                                  f"Geheimquelle {t.name}")),
    Read("harvest_source_list", lambda c, t: _any(c.api("harvest_source_list"), t.private_source["id"]), SYSADMINS),
    Read("harvest_object_show", lambda c, t: _any(
        c.api("harvest_object_show", id=t.harvest_object_id), HARVESTED_CONTENT)),
    Read("harvest_object_show_by_dataset", lambda c, t: _any(
        c.api("harvest_object_show", dataset_id=t.private["id"]), HARVESTED_CONTENT)),
    Read("harvest_object_page", lambda c, t: _any(c.page(f"/harvest/object/{t.harvest_object_id}"), "Geheimer")),
]


def _client(app, world, who, tenant):
    user = {"anonymous": None, "outsider": world.outsider, "sysadmin": world.sysadmin}.get(who)
    return Client(app, user if tenant is None else world[tenant].users[who])


@pytest.mark.parametrize("who, tenant, owner", MUST_NOT_SEE)
@pytest.mark.parametrize("read", READS, ids=str)
def test_private_data_stays_hidden(isolation_world, read, who, tenant, owner):
    app, world = isolation_world
    assert not read.seen(_client(app, world, who, tenant), world[owner])


@pytest.mark.parametrize("who, tenant, owner", MUST_SEE)
@pytest.mark.parametrize("read", READS, ids=str)
def test_private_data_reaches_who_may_read_it(isolation_world, read, who, tenant, owner):
    app, world = isolation_world
    expected = read.shown_to == MEMBERS or (read.shown_to == SYSADMINS and who == "sysadmin")
    assert read.seen(_client(app, world, who, tenant), world[owner]) is expected


@pytest.mark.parametrize("action", ["activity_show", "activity_data_show"])
@pytest.mark.parametrize("who, tenant, owner", [*MUST_NOT_SEE, ("member", OWNER, OWNER), ("editor", OWNER, OWNER),
                                                ("sysadmin", None, OWNER)])
def test_past_activity_of_a_formerly_public_dataset(isolation_world, action, who, tenant, owner):
    """An activity recorded while the dataset was public, with the dataset as it was then: its data is for those
    who may edit the dataset now (CKAN's rule for activity data), never for the public or other municipalities,
    and a member's request is refused, not answered with a server error."""
    app, world = isolation_world
    t = world[owner]
    model.Session.remove()
    first = (model.Session.query(Activity.id).filter(Activity.object_id == t.formerly_public["id"])
             .order_by(Activity.timestamp).first()[0])

    seen = _client(app, world, who, tenant).api(action, id=first)

    assert (seen is not None) is (who == "sysadmin" or (who == "editor" and tenant == owner))


def _recent(app, user, dataset):
    return _any(Client(app, user).api("recently_changed_packages_activity_list", limit=100), dataset["id"])


def test_datasets_made_private_in_bulk_leave_the_public_streams(isolation_world):
    app, world = isolation_world
    t = world["sankt-wendel"]
    dataset = dcatde.Dataset(owner_org=t.org["id"], user=t.editor, title="Bald vertraulich")
    assert _recent(app, None, dataset)

    user_call(t.users["admin"], "bulk_update_private", org_id=t.org["id"], datasets=[dataset["id"]])

    assert not _recent(app, None, dataset)
    assert not _recent(app, world["kusel"].users["admin"], dataset)
    assert _recent(app, t.users["member"], dataset)


def test_a_private_dataset_moved_to_another_municipality_takes_its_activities_along(isolation_world):
    app, world = isolation_world
    old, new = world["sankt-wendel"], world["kaiserslautern"]
    dataset = dcatde.Dataset(owner_org=old.org["id"], user=old.editor, private=True, title="Umzug")
    assert _recent(app, old.users["member"], dataset)

    sysadmin_call(world, "package_owner_org_update", id=dataset["id"], organization_id=new.org["id"])

    assert not _recent(app, old.users["member"], dataset)
    assert _recent(app, new.users["member"], dataset)
