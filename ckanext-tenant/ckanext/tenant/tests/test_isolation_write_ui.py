"""Isolation of writes through the web forms: posting a form of another municipality's dataset, resource, view,
data dictionary, harvest source, members or organisation is refused and changes nothing. Each role tries every form
against another municipality (``ONE_PER_ROLE``); the action API behind the forms has the full matrix
(test_isolation_write.py).

Forms are posted the way CKAN's own tests post them: with the user's API token in the Authorization header, which
identifies the user and exempts the request from the CSRF check (CSRF protection is on in this world). The positive
control opens the same form for the user's own object, so that each refusal is about the municipality and not
about the route.
"""
from dataclasses import dataclass
from typing import Callable

import pytest

from ckanext.tenant.tests.test_isolation_world import (  # noqa: F401 (fixture)
    ONE_PER_ROLE, VIEW_TYPE, isolation_world,
)

EDITORS = frozenset({"admin", "editor"})
ADMINS = frozenset({"admin"})


@dataclass(frozen=True)
class Form:
    """``path(target)`` of a form; ``data(actor_user, target)`` what is posted; ``roles``: who may open the form
    for their own municipality (None: the route acts on GET, no positive control by GET)."""

    id: str
    path: Callable
    data: Callable = lambda user, t: {}
    roles: frozenset = EDITORS
    denied: int = 403

    def __str__(self):
        return self.id


def _dataset(t):
    return f"/dataset/{t.dataset['name']}"


def _resource(t):
    return f"{_dataset(t)}/resource/{t.resource['id']}"


FORMS = [
    Form("dataset_new", lambda t: "/dataset/new", lambda user, t: {
        "name": "uebernommen", "title": "Übernommen", "notes": "x", "owner_org": t.org["id"],
        "theme": "http://publications.europa.eu/resource/authority/data-theme/ENVI",
        "license_id": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0", "save": ""}),
    Form("dataset_edit", lambda t: f"/dataset/edit/{t.dataset['name']}",
         lambda user, t: {"title": "Übernommen", "name": t.dataset["name"], "save": ""}),
    Form("dataset_edit_private", lambda t: f"/dataset/edit/{t.private['name']}",
         lambda user, t: {"title": "Übernommen", "name": t.private["name"], "save": ""}),
    Form("dataset_delete", lambda t: f"/dataset/delete/{t.dataset['name']}"),
    Form("resource_new", lambda t: f"{_dataset(t)}/resource/new", lambda user, t: {
        "id": "", "url": "https://example.org/neu.csv", "format": "CSV", "name": "Übernommen", "save": "go-metadata"}),
    Form("resource_edit", lambda t: f"{_resource(t)}/edit", lambda user, t: {
        "url": "https://example.org/neu.csv", "format": "CSV", "name": "Übernommen", "save": ""}),
    Form("resource_delete", lambda t: f"{_resource(t)}/delete"),
    Form("view_new", lambda t: f"{_resource(t)}/new_view?view_type={VIEW_TYPE}", lambda user, t: {
        "title": "Übernommen", "image_url": "https://example.org/x.png"}),
    Form("view_edit", lambda t: f"{_resource(t)}/edit_view/{t.view['id']}", lambda user, t: {
        "title": "Übernommen", "image_url": "https://example.org/x.png"}),
    Form("view_delete", lambda t: f"{_resource(t)}/edit_view/{t.view['id']}", lambda user, t: {"delete": ""}),
    # The DataStore's data dictionary answers "not found" to whoever may not edit the resource.
    Form("data_dictionary", lambda t: f"{_dataset(t)}/dictionary/{t.resource['id']}", lambda user, t: {
        "info__1__label": "Übernommen", "info__1__notes": "x", "info__2__label": "Wert"}, denied=404),
    Form("harvest_edit", lambda t: f"/harvest/edit/{t.source['name']}", lambda user, t: {
        "name": t.source["name"], "title": "Übernommen", "url": t.source["url"], "source_type": "dcat_rdf",
        "owner_org": t.org["id"], "save": ""}),
    Form("harvest_refresh", lambda t: f"/harvest/refresh/{t.source['id']}", roles=None),
    Form("harvest_clear", lambda t: f"/harvest/clear/{t.source['id']}", roles=None),
    Form("harvest_delete", lambda t: f"/harvest/delete/{t.source['id']}", roles=None),
    Form("organization_edit", lambda t: f"/organization/edit/{t.org['name']}", lambda user, t: {
        "title": "Übernommen", "name": t.org["name"], "save": ""}, roles=ADMINS),
    Form("organization_delete", lambda t: f"/organization/delete/{t.org['name']}", lambda user, t: {
        "delete": "yes"}, roles=ADMINS),
    Form("organization_member_new", lambda t: f"/organization/member_new/{t.org['name']}", lambda user, t: {
        "username": user["name"], "role": "admin"}, roles=ADMINS),
    Form("organization_member_delete", lambda t: (
        f"/organization/member_delete/{t.org['name']}?user={t.users['editor']['id']}"), roles=None),
    Form("organization_bulk_process", lambda t: f"/organization/bulk_process/{t.org['name']}", lambda user, t: {
        f"dataset_{t.dataset['id']}": "on", "bulk_action.private": "private"}, roles=ADMINS),
]


@pytest.mark.parametrize("role, actor_name, target_name", ONE_PER_ROLE)
@pytest.mark.parametrize("form", FORMS, ids=str)
def test_form_of_another_municipality_is_refused(isolation_world, form, role, actor_name, target_name):
    app, world = isolation_world
    own, target = world[actor_name], world[target_name]
    user = own.users[role]
    before = world.ledger.before(target.org["id"], own.org["id"])

    response = app.post(form.path(target), data=form.data(user, target), headers={"Authorization": user["token"]},
                        follow_redirects=False)

    assert response.status_code == form.denied, response.body[:500]
    assert world.ledger.after(target.org["id"], own.org["id"]) == before


@pytest.mark.parametrize("form, role", [(f, r) for f in FORMS if f.roles for r in sorted(f.roles)], ids=str)
def test_form_of_own_municipality_opens(isolation_world, form, role):
    app, world = isolation_world
    own = world[ONE_PER_ROLE[0][1]]

    response = app.get(form.path(own), headers={"Authorization": own.users[role]["token"]}, follow_redirects=False)

    assert response.status_code == 200, response.body[:500]
