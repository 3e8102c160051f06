"""Isolation of writes through the action API: an admin, editor or member of one municipality can change nothing
of another one (datasets, resources, views, DataStore tables, harvest sources, members, the organisation).

Every write action is tried by each role against two other municipalities (each ordered pair of municipalities
once, see ``ACTOR_TARGET``), over HTTP with the user's API token: the answer is a JSON error with 403 (or 409 where
CKAN rejects the input as a field error before anything is written), never a 500, and neither municipality has
changed (:func:`fingerprint`). The positive controls show that the same users can do each of these actions in their
own municipality where their role allows it, and that the fingerprint notices the change, so that each denial
means something. Variants of an action (on a private dataset, with a trick) share the control of the action.
"""
import functools
from dataclasses import dataclass, field
from typing import Callable

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories

from ckanext.suedwest.tests import factories as dcatde
from ckanext.tenant.tests.test_isolation_world import (  # noqa: F401 (fixture)
    ACTOR_TARGET, TENANTS, VIEW_TYPE, add_resource, add_source, add_table, add_view, dataset_fields, fingerprint,
    isolation_world, sysadmin_call, unique,
)

EDITORS = frozenset({"admin", "editor"})
ADMINS = frozenset({"admin"})
NOBODY = frozenset()
NEW_RECORD = {"zeit": "2027-01-01T00:00:00Z", "wert": 7}


def field_error_unless_member(role):
    """CKAN validates the input of a user who may edit their own object before it writes anything; a field
    error (409) then rejects a reference to the other municipality. A member may not edit at all (403)."""
    return 403 if role == "member" else 409


@dataclass(frozen=True)
class Actor:
    role: str
    user: dict
    own: object  # Tenant or Fresh: the actor's own municipality


@dataclass(frozen=True)
class Write:
    """One write: ``payload(actor, target, world)`` is what is posted to attack ``target``; ``allowed``: the roles
    that may do it in their own municipality (positive control); ``denied(role)``: the status of the attack."""

    id: str
    action: str
    payload: Callable
    allowed: frozenset = EDITORS
    denied: Callable = field(default=lambda role: 403)
    fresh_org: bool = False  # the positive control changes the organisation itself: use one of its own

    def __str__(self):
        return self.id


class Fresh:
    """Objects in the actor's own municipality made for one positive control (so the shared world stays as it
    is); created on first use."""

    def __init__(self, world, tenant, role, fresh_org=False):
        self.world, self.tenant, self.role, self.fresh_org = world, tenant, role, fresh_org

    @functools.cached_property
    def org(self):
        if not self.fresh_org:
            return self.tenant.org
        return factories.Organization(users=[{"name": self.tenant.users[self.role]["name"], "capacity": self.role}])

    @functools.cached_property
    def dataset(self):
        return dcatde.Dataset(owner_org=self.org["id"], user=self.world.sysadmin)

    @functools.cached_property
    def private(self):
        return dcatde.Dataset(owner_org=self.org["id"], user=self.world.sysadmin, private=True)

    @functools.cached_property
    def resource(self):
        resource = add_resource(self.world, self.dataset)
        add_table(self.world, resource)
        return resource

    @functools.cached_property
    def view(self):
        return add_view(self.world, self.resource)

    @functools.cached_property
    def source(self):
        return add_source(self.world, self.org, with_job=True)

    @functools.cached_property
    def editor(self):
        user = factories.User()
        sysadmin_call(self.world, "organization_member_create", id=self.org["id"], username=user["name"],
                      role="editor")
        return user


def _newcomer(tenant, actor):
    """Whom a membership write adds: in an attack the actor themselves (taking a role in the other
    municipality), in a positive control someone new."""
    return factories.User() if isinstance(tenant, Fresh) else actor.user


WRITES = [
    # Datasets
    Write("package_create", "package_create", lambda a, t, world: dataset_fields(
        name=unique("neu"), owner_org=t.org["id"])),
    Write("package_update", "package_update", lambda a, t, world: {
        **sysadmin_call(world, "package_show", id=t.dataset["id"]), "title": "Übernommen"}),
    Write("package_patch", "package_patch", lambda a, t, world: {"id": t.dataset["id"], "title": "Übernommen"}),
    Write("package_patch_private", "package_patch",
          lambda a, t, world: {"id": t.private["id"], "title": "Übernommen"}),
    Write("package_revise", "package_revise", lambda a, t, world: {
        "match": {"id": t.dataset["id"]}, "update": {"title": "Übernommen"}}),
    Write("package_delete", "package_delete", lambda a, t, world: {"id": t.dataset["id"]}),
    Write("package_delete_private", "package_delete", lambda a, t, world: {"id": t.private["id"]}),
    Write("move_own_dataset_there", "package_patch", lambda a, t, world: {
        "id": a.own.dataset["id"], "owner_org": t.org["id"]}, allowed=NOBODY, denied=field_error_unless_member),
    Write("owner_org_update_there", "package_owner_org_update", lambda a, t, world: {
        "id": a.own.dataset["id"], "organization_id": t.org["id"]}, allowed=NOBODY),
    Write("owner_org_update_here", "package_owner_org_update", lambda a, t, world: {
        "id": t.dataset["id"], "organization_id": a.own.org["id"]}, allowed=NOBODY),
    Write("bulk_update_private", "bulk_update_private", lambda a, t, world: {
        "org_id": t.org["id"], "datasets": [t.dataset["id"]]}, allowed=ADMINS),
    Write("bulk_update_public", "bulk_update_public", lambda a, t, world: {
        "org_id": t.org["id"], "datasets": [t.private["id"]]}, allowed=ADMINS),
    Write("bulk_update_delete", "bulk_update_delete", lambda a, t, world: {
        "org_id": t.org["id"], "datasets": [t.dataset["id"]]}, allowed=ADMINS),
    # ... naming one's own organisation but the other municipality's datasets
    Write("bulk_update_private_via_own_org", "bulk_update_private", lambda a, t, world: {
        "org_id": a.own.org["id"], "datasets": [t.dataset["id"]]}, allowed=NOBODY),
    Write("bulk_update_delete_via_own_org", "bulk_update_delete", lambda a, t, world: {
        "org_id": a.own.org["id"], "datasets": [t.dataset["id"]]}, allowed=NOBODY),
    Write("package_relationship_create", "package_relationship_create", lambda a, t, world: {
        "subject": a.own.dataset["id"], "object": t.dataset["id"], "type": "depends_on"}),
    Write("dataset_purge", "dataset_purge", lambda a, t, world: {"id": t.dataset["id"]}, allowed=NOBODY),
    Write("package_collaborator_create", "package_collaborator_create", lambda a, t, world: {
        "id": t.dataset["id"], "user_id": a.user["id"], "capacity": "editor"}, allowed=NOBODY),
    # Resources
    Write("resource_create", "resource_create", lambda a, t, world: {
        "package_id": t.dataset["id"], "url": "https://example.org/neu.csv", "format": "CSV"}),
    Write("resource_create_private", "resource_create", lambda a, t, world: {
        "package_id": t.private["id"], "url": "https://example.org/neu.csv", "format": "CSV"}),
    Write("resource_update", "resource_update", lambda a, t, world: {
        "id": t.resource["id"], "url": "https://example.org/neu.csv", "format": "CSV", "name": "Übernommen"}),
    Write("resource_patch", "resource_patch", lambda a, t, world: {"id": t.resource["id"], "name": "Übernommen"}),
    Write("resource_delete", "resource_delete", lambda a, t, world: {"id": t.resource["id"]}),
    Write("package_resource_reorder", "package_resource_reorder", lambda a, t, world: {
        "id": t.dataset["id"], "order": [t.resource["id"]]}),
    # ... taking over the other municipality's resource by its id (the deleted one CKAN's own check misses)
    Write("resource_create_with_their_deleted_id", "resource_create", lambda a, t, world: {
        "package_id": a.own.dataset["id"], "id": t.deleted_resource["id"], "url": "https://example.org/x.csv",
        "format": "CSV"}, allowed=NOBODY, denied=field_error_unless_member),
    Write("own_dataset_with_their_deleted_resource", "package_patch", lambda a, t, world: {
        "id": a.own.dataset["id"], "resources": [{
            "id": t.deleted_resource["id"], "url": "https://example.org/x.csv", "format": "CSV"}]},
        allowed=NOBODY, denied=field_error_unless_member),
    Write("own_dataset_with_their_resource", "package_patch", lambda a, t, world: {
        "id": a.own.dataset["id"], "resources": [{
            "id": t.resource["id"], "url": "https://example.org/x.csv", "format": "CSV"}]},
        allowed=NOBODY, denied=field_error_unless_member),
    # Views
    Write("resource_view_create", "resource_view_create", lambda a, t, world: {
        "resource_id": t.resource["id"], "view_type": VIEW_TYPE, "title": "Übernommen",
        "image_url": "https://example.org/x.png"}),
    Write("resource_view_update", "resource_view_update", lambda a, t, world: {
        "id": t.view["id"], "resource_id": t.resource["id"], "title": "Übernommen",
        "image_url": "https://example.org/x.png"}),
    # ... naming one's own resource beside the other municipality's view
    Write("resource_view_update_via_own_resource", "resource_view_update", lambda a, t, world: {
        "id": t.view["id"], "resource_id": a.own.resource["id"], "title": "Übernommen",
        "image_url": "https://example.org/x.png"}, allowed=NOBODY),
    Write("resource_view_update_moving_own_view_there", "resource_view_update", lambda a, t, world: {
        "id": a.own.view["id"], "resource_id": t.resource["id"], "title": "Übernommen",
        "image_url": "https://example.org/x.png"}, allowed=NOBODY),
    Write("resource_view_delete", "resource_view_delete", lambda a, t, world: {"id": t.view["id"]}),
    Write("resource_view_reorder", "resource_view_reorder", lambda a, t, world: {
        "id": t.resource["id"], "order": [t.view["id"]]}),
    # No view plugin that this bundle loads makes default views for these resources, so there is no positive
    # control: the answer must still be an authorization error.
    Write("package_create_default_resource_views", "package_create_default_resource_views",
          lambda a, t, world: {"package": sysadmin_call(world, "package_show", id=t.dataset["id"])}, allowed=NOBODY),
    # DataStore
    Write("datastore_create", "datastore_create", lambda a, t, world: {
        "resource_id": t.resource["id"], "records": [NEW_RECORD], "force": True}),
    Write("datastore_create_new_resource", "datastore_create", lambda a, t, world: {
        "resource": {"package_id": t.dataset["id"], "name": "Neu", "format": "CSV"},
        "fields": [{"id": "wert", "type": "int"}], "records": [{"wert": 1}], "force": True}),
    Write("datastore_upsert", "datastore_upsert", lambda a, t, world: {
        "resource_id": t.resource["id"], "records": [NEW_RECORD], "method": "upsert", "force": True}),
    Write("datastore_delete", "datastore_delete", lambda a, t, world: {
        "resource_id": t.resource["id"], "force": True}),
    Write("datastore_records_delete", "datastore_records_delete", lambda a, t, world: {
        "resource_id": t.resource["id"], "filters": {}, "force": True}),
    # Harvest sources
    Write("harvest_source_create", "harvest_source_create", lambda a, t, world: {
        "name": (name := unique("quelle")), "title": "Quelle", "url": f"https://example.org/{name}.ttl",
        "source_type": "dcat_rdf", "owner_org": t.org["id"]}),
    Write("harvest_source_update", "harvest_source_update", lambda a, t, world: {
        "id": t.source["id"], "name": t.source["name"], "url": t.source["url"], "source_type": "dcat_rdf",
        "title": "Übernommen", "owner_org": t.org["id"]}),
    Write("harvest_source_patch", "harvest_source_patch", lambda a, t, world: {
        "id": t.source["id"], "title": "Übernommen"}),
    Write("move_own_source_there", "harvest_source_patch", lambda a, t, world: {
        "id": a.own.source["id"], "owner_org": t.org["id"]}, allowed=NOBODY, denied=field_error_unless_member),
    Write("harvest_source_delete", "harvest_source_delete", lambda a, t, world: {"id": t.source["id"]}),
    Write("harvest_job_create", "harvest_job_create", lambda a, t, world: {"source_id": t.source["id"]}),
    Write("harvest_source_clear", "harvest_source_clear", lambda a, t, world: {"id": t.source["id"]}),
    # Members and the organisation
    Write("member_create", "member_create", lambda a, t, world: {
        "id": t.org["id"], "object": _newcomer(t, a)["name"], "object_type": "user", "capacity": "admin"},
        allowed=ADMINS),
    Write("member_create_their_dataset_here", "member_create", lambda a, t, world: {
        "id": a.own.org["id"], "object": t.dataset["id"], "object_type": "package", "capacity": "public"},
        allowed=NOBODY),
    Write("organization_member_create", "organization_member_create", lambda a, t, world: {
        "id": t.org["id"], "username": _newcomer(t, a)["name"], "role": "admin"}, allowed=ADMINS),
    Write("member_delete", "member_delete", lambda a, t, world: {
        "id": t.org["id"], "object": t.editor["id"], "object_type": "user"}, allowed=ADMINS),
    Write("organization_member_delete", "organization_member_delete", lambda a, t, world: {
        "id": t.org["id"], "username": t.editor["name"]}, allowed=ADMINS),
    Write("organization_update", "organization_update", lambda a, t, world: {
        **sysadmin_call(world, "organization_show", id=t.org["id"]), "title": "Übernommen"}, allowed=ADMINS,
        fresh_org=True),
    Write("organization_patch", "organization_patch", lambda a, t, world: {
        "id": t.org["id"], "title": "Übernommen"}, allowed=ADMINS, fresh_org=True),
    Write("organization_delete", "organization_delete", lambda a, t, world: {"id": t.org["id"]},
          allowed=ADMINS, fresh_org=True),
    Write("organization_purge", "organization_purge", lambda a, t, world: {"id": t.org["id"]},
          allowed=NOBODY),
    # The other municipality's people
    Write("user_patch", "user_patch", lambda a, t, world: {
        "id": t.editor["id"], "email": "uebernommen@example.org"}, allowed=NOBODY),
    Write("api_token_create", "api_token_create", lambda a, t, world: {
        "user": t.editor["name"], "name": "uebernommen"}, allowed=NOBODY),
]


def post_action(app, action, payload, user):
    return app.post(f"/api/3/action/{action}", json=payload, headers={"Authorization": user["token"]})


@pytest.mark.parametrize("role, actor_name, target_name", ACTOR_TARGET)
@pytest.mark.parametrize("write", WRITES, ids=str)
def test_denied_in_another_municipality(isolation_world, write, role, actor_name, target_name):
    app, world = isolation_world
    own, target = world[actor_name], world[target_name]
    actor = Actor(role, own.users[role], own)
    payload = write.payload(actor, target, world)
    before = world.ledger.before(target.org["id"], own.org["id"])

    response = post_action(app, write.action, payload, actor.user)

    expected = write.denied(role)
    assert response.status_code == expected, response.body[:1000]
    error = response.json["error"]
    assert response.json["success"] is False
    assert error["__type"] == {403: "Authorization Error", 409: "Validation Error"}[expected], error
    assert world.ledger.after(target.org["id"], own.org["id"]) == before


def least_role(roles):
    """The least of the roles (CKAN's admin may do whatever an editor may)."""
    return "editor" if "editor" in roles else "admin"


@pytest.mark.parametrize("write, role", [(w, least_role(w.allowed)) for w in WRITES if w.allowed], ids=str)
def test_allowed_in_own_municipality(isolation_world, write, role):
    app, world = isolation_world
    # Index without a Solr commit per write (the positive controls do not search).
    tk.config["ckan.search.solr_commit"] = False
    tenant = world[TENANTS[0]]
    own = Fresh(world, tenant, role, fresh_org=write.fresh_org)
    actor = Actor(role, tenant.users[role], own)
    world.ledger.forget()
    payload = write.payload(actor, own, world)
    before = fingerprint(own.org["id"])

    response = post_action(app, write.action, payload, actor.user)

    assert response.status_code == 200, response.body[:1000]
    assert response.json["success"] is True
    assert fingerprint(own.org["id"]) != before

