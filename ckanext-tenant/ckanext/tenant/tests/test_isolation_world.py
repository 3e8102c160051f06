"""The world that the tenant-isolation tests (test_isolation_*.py) share; this module holds no tests.

Three municipalities, each with an admin, an editor and a member (all with API tokens) and:

* a public dataset with a resource (DataStore table), a view and a deleted resource;
* a private dataset with an uploaded file as resource (DataStore table with an alias), a view made by the
  editor, a tag, and a harvest object with the record it was imported from;
* a dataset that was public, was followed by users of the other municipalities, and was then made private;
* a public and a private harvest source (the public one with a finished job).

Building it takes seconds (CKAN writes, one Solr commit), far too slow to repeat for each of the hundreds of
requests of the matrices, and CKAN's ``clean_db`` resets the database for each test. So the world is built once per
test session, on a freshly reset database, and checked at the start of each module that uses it: if anything reset
the databases, the index or the DataStore in between, it is built again. Tests never change its objects: a test that
writes makes objects of its own; a test that asserts "nothing changed" compares :func:`fingerprint` before and after
(through the :class:`Ledger`).
"""
import io
import uuid
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.lib import search
from ckan.tests import factories, helpers
from ckan.tests.pytest_ckan.fixtures import FakeFileStorage
from ckanext.datastore.backend.postgres import get_write_engine
from ckanext.harvest.model import HarvestJob, HarvestObject

from ckanext.suedwest.tests import factories as dcatde

TENANTS = ("kaiserslautern", "kusel", "sankt-wendel")
ROLES = ("admin", "editor", "member")
# Who tries to write where: each role of a municipality against both others, and each ordered pair of
# municipalities once, so that every municipality acts and is attacked (all 18 combinations for every action
# would triple the run time and add no new kind of case).
ACTOR_TARGET = [("admin", "kaiserslautern", "kusel"), ("admin", "kaiserslautern", "sankt-wendel"),
                ("editor", "kusel", "sankt-wendel"), ("editor", "kusel", "kaiserslautern"),
                ("member", "sankt-wendel", "kaiserslautern"), ("member", "sankt-wendel", "kusel")]
# Each role once, each against another municipality (for the slower page requests).
ONE_PER_ROLE = [("admin", "kaiserslautern", "kusel"), ("editor", "kusel", "sankt-wendel"),
                ("member", "sankt-wendel", "kaiserslautern")]
UPLOAD_CONTENT = b"zeit,wert\n2026-01-01T00:00:00Z,42\n"
HARVESTED_CONTENT = "<dcat:Dataset>Geheimer Quelldatensatz</dcat:Dataset>"
# No view plugin that this bundle loads can be created through the API yet; image_view (CKAN core, no JavaScript)
# stands in for one.
VIEW_TYPE = "image_view"


@dataclass
class Tenant:
    """One municipality and what it owns (dicts as the actions returned them)."""

    name: str
    org: dict
    users: dict  # role -> user dict with "token"
    dataset: dict = field(default_factory=dict)
    resource: dict = field(default_factory=dict)
    view: dict = field(default_factory=dict)
    deleted_resource: dict = field(default_factory=dict)
    private: dict = field(default_factory=dict)
    private_resource: dict = field(default_factory=dict)
    private_view: dict = field(default_factory=dict)
    private_alias: str = ""
    private_tag: str = ""
    harvest_object_id: str = ""
    formerly_public: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)
    private_source: dict = field(default_factory=dict)

    @property
    def editor(self):
        return self.users["editor"]


@dataclass
class World:
    sysadmin: dict  # with "token"
    outsider: dict  # a user without any organisation, with "token"
    tenants: dict = field(default_factory=dict)  # name -> Tenant
    ledger: "Ledger" = field(default_factory=lambda: Ledger())

    def __getitem__(self, name):
        return self.tenants[name]


def sysadmin_call(world, action, **data_dict):
    return helpers.call_action(action, {"user": world.sysadmin["name"]}, **data_dict)


def user_call(user, action, **data_dict):
    return helpers.call_action(action, {"user": user["name"]}, **data_dict)


def dataset_fields(**fields):
    """The smallest valid DCAT-AP.de dataset (as ckanext.suedwest.tests.factories.Dataset)."""
    return {"title": "Pegelstände", "notes": "Messwerte", "theme": [dcatde.ENVI], "license_id": dcatde.DL_ZERO,
            **fields}


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def add_resource(world, dataset, **fields):
    fields = {"url": "https://example.org/werte.csv", "format": "CSV", "name": "Werte", **fields}
    return sysadmin_call(world, "resource_create", package_id=dataset["id"], **fields)


def add_view(world, resource, title="Ansicht", user=None):
    return user_call(user or world.sysadmin, "resource_view_create", resource_id=resource["id"], view_type=VIEW_TYPE,
                     title=title, image_url="https://example.org/bild.png")


def add_table(world, resource, **extra):
    return sysadmin_call(world, "datastore_create", resource_id=resource["id"], primary_key=["zeit"],
                         fields=[{"id": "zeit", "type": "text"}, {"id": "wert", "type": "int"}],
                         records=[{"zeit": "2026-01-01T00:00:00Z", "wert": 42}], force=True, **extra)


def add_source(world, org, with_job=False, **fields):
    """A DCAT harvest source of ``org``; ``with_job``: with a finished job (something to clear, and no unrun job
    that would stop a new one)."""
    name = unique("quelle")
    fields = {"name": name, "title": "DCAT-Quelle", "url": f"https://example.org/{name}.ttl",
              "source_type": "dcat_rdf", "owner_org": org["id"], **fields}
    source = sysadmin_call(world, "harvest_source_create", **fields)
    if with_job:
        job = HarvestJob.get(sysadmin_call(world, "harvest_job_create", source_id=source["id"], run=False)["id"])
        job.status = "Finished"
        job.save()
    return source


def _harvest_object(source, package_id):
    """What a harvest leaves behind: the imported record, linked to the dataset it became."""
    job = HarvestJob(source_id=source["id"], status="Finished")
    job.save()
    harvest_object = HarvestObject(guid=unique("guid"), job=job, source=job.source, package_id=package_id,
                                   content=HARVESTED_CONTENT, current=True)
    harvest_object.save()
    return harvest_object.id


def build_tenant(world, name):
    users = {role: factories.UserWithToken(name=f"{role}-{name}-{uuid.uuid4().hex[:6]}") for role in ROLES}
    org = factories.Organization(name=name, title=f"Kommune {name}",
                                 users=[{"name": user["name"], "capacity": role} for role, user in users.items()])
    t = Tenant(name=name, org=org, users=users)
    t.dataset = dcatde.Dataset(owner_org=org["id"], user=t.editor, title=f"Öffentlich {name}")
    t.resource = add_resource(world, t.dataset)
    t.view = add_view(world, t.resource)
    add_table(world, t.resource)
    t.deleted_resource = add_resource(world, t.dataset, name="Gelöscht")
    sysadmin_call(world, "resource_delete", id=t.deleted_resource["id"])

    t.private_tag = f"geheimtag-{name}"
    t.private = dcatde.Dataset(owner_org=org["id"], user=t.editor, private=True, title=f"Geheimsache {name}",
                               tags=[{"name": t.private_tag}])
    t.private_resource = add_resource(world, t.private, url="werte.csv", name="Geheime Werte",
                                      upload=FakeFileStorage(io.BytesIO(UPLOAD_CONTENT), "werte.csv"))
    t.private_view = add_view(world, t.private_resource, title=f"Geheimansicht {name}", user=t.editor)
    t.private_alias = f"geheim_{name.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    add_table(world, t.private_resource, aliases=t.private_alias)

    t.source = add_source(world, org, with_job=True)
    t.private_source = add_source(world, org, private=True, title=f"Geheimquelle {name}")
    t.harvest_object_id = _harvest_object(t.private_source, t.private["id"])

    t.formerly_public = dcatde.Dataset(owner_org=org["id"], user=t.editor, title=f"Ehemals öffentlich {name}")
    return t


def _follow_then_hide(world):
    """Everybody follows each municipality's public "formerly public" dataset; then its editor makes it private."""
    followers = [world.outsider, world.sysadmin, *(u for t in world.tenants.values() for u in t.users.values())]
    for t in world.tenants.values():
        for user in followers:
            user_call(user, "follow_dataset", id=t.formerly_public["id"])
        user_call(t.editor, "package_patch", id=t.formerly_public["id"], private=True,
                  notes="Jetzt vertraulich")


def drop_datastore_tables():
    """DataStore tables outlive CKAN's database reset; start the world without them."""
    with get_write_engine().begin() as connection:
        names = connection.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        for (name,) in list(names):
            connection.execute(sa.text(f'DROP TABLE "{name}" CASCADE'))


def _build(reset_db, reset_index, migrate_db_for):
    reset_db()
    for plugin in ("activity", "harvest"):
        migrate_db_for(plugin)
    reset_index()
    drop_datastore_tables()
    # The migrations leave CKAN on an engine without a connection pool (ckan/migration/env.py), which costs a new
    # PostgreSQL connection per query; the app built next binds a pooled one, as in production.
    app = helpers._get_test_app()
    tk.config["ckan.search.solr_commit"] = False  # one Solr commit at the end instead of one per write
    world = World(sysadmin=factories.SysadminWithToken(), outsider=factories.UserWithToken())
    for name in TENANTS:
        world.tenants[name] = build_tenant(world, name)
    _follow_then_hide(world)
    search.commit()
    return app, world


def _still_there(world):
    """Whether nothing has reset the database, the search index or the DataStore since the world was built."""
    t = world[TENANTS[-1]]
    model.Session.remove()
    in_db = model.Session.query(model.Package.id).filter_by(id=t.formerly_public["id"]).first() is not None
    model.Session.remove()
    if not in_db:
        return False
    indexed = search.query_for(model.Package).run({"q": f'id:"{t.private["id"]}"', "fl": "id"},
                                                   permission_labels=None)["count"]
    with get_write_engine().connect() as connection:
        table = connection.execute(sa.text("SELECT to_regclass(:name)"), {"name": f'"{t.resource["id"]}"'}).scalar()
    return indexed == 1 and table is not None


_session_world = {}


@pytest.fixture(scope="module")
def isolation_world(reset_db, reset_index, migrate_db_for):
    """``(app, world)``: the configured plugins plus a view plugin loaded into one test app for the module, with
    CSRF protection on (as in production) and the DataStore's SQL search enabled (the riskier setting).

    CKAN's ``app`` fixture builds a new app, reloading every plugin, for each test: too slow for the matrices. CKAN's
    test plugin restores the configuration before each test, which leaves the loaded plugins and the app as they
    are; settings that the app reads when it starts hold for the whole module. The plugins are unloaded and the
    configuration restored at the end of the module."""
    saved = dict(tk.config)
    tk.config["ckan.plugins"] = [*tk.config["ckan.plugins"], VIEW_TYPE]
    tk.config["WTF_CSRF_ENABLED"] = True
    tk.config["ckan.datastore.sqlsearch.enabled"] = True
    try:
        plugins.load_all()
        world = _session_world.get("world")
        if world is not None and _still_there(world):
            app = helpers._get_test_app()
            world.ledger.forget()
        else:
            app, world = _build(reset_db, reset_index, migrate_db_for)
            _session_world["world"] = world
        yield app, world
    finally:
        plugins.unload_non_system_plugins()
        model.Session.remove()
        model.meta.engine.dispose()
        tk.config.clear()
        tk.config.update(saved)


# What each municipality owns, by organisation id, in one query per kind of object; "org" is bound to the list of
# organisation ids. A dataset, resource or view that moved to another municipality leaves its old one's rows.
_FINGERPRINT_QUERIES = {
    "org": 'SELECT id, id, name, title, state, description, image_url FROM "group" WHERE id IN :org',
    "extras": "SELECT group_id, key, value, state FROM group_extra WHERE group_id IN :org",
    "members": "SELECT group_id, table_name, table_id, capacity, state FROM member WHERE group_id IN :org",
    "packages": "SELECT owner_org, id, name, title, state, private, metadata_modified FROM package"
                " WHERE owner_org IN :org",
    "memberships": "SELECT p.owner_org, m.group_id, m.table_id, m.capacity, m.state FROM member m"
                   " JOIN package p ON p.id = m.table_id WHERE p.owner_org IN :org",
    "relationships": "SELECT p.owner_org, r.subject_package_id, r.object_package_id, r.type, r.state"
                     " FROM package_relationship r JOIN package p"
                     " ON p.id IN (r.subject_package_id, r.object_package_id) WHERE p.owner_org IN :org",
    "resources": "SELECT p.owner_org, r.id, r.package_id, r.name, r.url, r.state, r.position, r.metadata_modified"
                 " FROM resource r JOIN package p ON p.id = r.package_id WHERE p.owner_org IN :org",
    "views": 'SELECT p.owner_org, v.id, v.resource_id, v.title, v."order", v.config FROM resource_view v'
             " JOIN resource r ON r.id = v.resource_id JOIN package p ON p.id = r.package_id"
             " WHERE p.owner_org IN :org",
    "sources": "SELECT p.owner_org, s.id, s.url, s.title, s.config, s.active, s.frequency,"
               " (SELECT count(*) FROM harvest_job j WHERE j.source_id = s.id)"
               " FROM harvest_source s JOIN package p ON p.id = s.id WHERE p.owner_org IN :org",
    "activities": "SELECT coalesce(p.owner_org, a.object_id), count(*) FROM activity a"
                  " LEFT JOIN package p ON p.id = a.object_id"
                  " WHERE p.owner_org IN :org OR a.object_id IN :org GROUP BY 1",
}


def fingerprint(*org_ids):
    """``{organisation id: state}``: everything of these municipalities that a write could change, read straight
    from the databases: the organisation and its extras, its members, its datasets in any state (with their
    memberships and relationships), resources, views, DataStore rows, harvest sources with their number of jobs,
    and the number of activities."""
    model.Session.remove()
    state = {org_id: {kind: [] for kind in [*_FINGERPRINT_QUERIES, "datastore"]} for org_id in org_ids}
    tables = {}
    for kind, sql in _FINGERPRINT_QUERIES.items():
        query = sa.text(sql).bindparams(sa.bindparam("org", expanding=True))
        for row in model.Session.execute(query, {"org": list(org_ids)}):
            state[row[0]][kind].append(tuple(str(value) for value in row[1:]))
            if kind == "resources":
                tables[row[1]] = row[0]
    model.Session.remove()
    with get_write_engine().connect() as connection:
        existing = {name for (name,) in connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
        for resource_id in sorted(set(tables) & existing):
            rows = connection.execute(sa.text(f'SELECT * FROM "{resource_id}"'))
            state[tables[resource_id]]["datastore"].append((resource_id, sorted(map(tuple, rows))))
    return {org_id: {kind: sorted(rows) for kind, rows in kinds.items()} for org_id, kinds in state.items()}


class Ledger:
    """The municipalities' fingerprints as last read, so that a test that must change nothing compares against
    the state before it without reading it again: each test reads the state after it once and records it. A test
    that changes something on purpose calls :meth:`forget`."""

    def __init__(self):
        self.known = {}

    def before(self, *org_ids):
        missing = [org_id for org_id in org_ids if org_id not in self.known]
        if missing:
            self.known.update(fingerprint(*missing))
        return {org_id: self.known[org_id] for org_id in org_ids}

    def after(self, *org_ids):
        state = fingerprint(*org_ids)
        self.known.update(state)
        return state

    def forget(self):
        self.known.clear()
