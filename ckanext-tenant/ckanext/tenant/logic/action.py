"""Chained actions that keep the municipalities (organisations) apart where CKAN core and the extensions it runs
with leave a gap (registered through :func:`get_actions` by the actions blanket in plugin.py). Each chains the
original action and only ever narrows what it writes or shows; each docstring says which gap it closes. Sysadmins
(and code that calls an action with ``ignore_auth``) see everything, as before.

Whether someone may read a dataset is decided as CKAN's search decides it: by the dataset's permission labels
(``public``, ``member-<organisation id>``) against the labels of the user."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

import ckan.authz as authz
import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import get_permission_labels
from ckan.logic import auth_audit_exempt

from ckanext.tenant.logic.auth import may_access, user_context

__all__ = ["bulk_update_private", "dashboard_activity_list", "datastore_search", "harvest_source_list",
           "member_list", "package_create", "package_owner_org_update", "package_update", "tag_autocomplete",
           "tag_list", "tag_search", "tag_show", "user_activity_list"]

# Chains of actions of other plugins: a chain without its original would stop CKAN.
_FROM_PLUGIN = {"dashboard_activity_list": "activity", "datastore_search": "datastore",
                "harvest_source_list": "harvest", "user_activity_list": "activity"}
TABLE_METADATA = "_table_metadata"


def get_actions():
    """The chained actions, without those whose original comes from a plugin that is not loaded."""
    return {name: globals()[name] for name in __all__
            if name not in _FROM_PLUGIN or plugins.plugin_loaded(_FROM_PLUGIN[name])}


def _sees_everything(context):
    """A sysadmin, or code that calls an action with ``ignore_auth`` (as CKAN's package_search takes it)."""
    return bool(context.get("ignore_auth")) or authz.is_sysadmin(context.get("user"))


def _user_labels(context):
    """The permission labels of the user of ``context``; None for who sees everything."""
    if _sees_everything(context):
        return None
    user = context.get("user")
    user_obj = context.get("auth_user_obj") or (model.User.get(user) if user else None)
    return set(get_permission_labels().get_user_dataset_labels(user_obj))


def _readable(package, labels):
    return labels is None or bool(labels & set(get_permission_labels().get_dataset_labels(package)))


# Writes: resources of other datasets


def _refuse_resources_of_other_datasets(package_id, data_dict):
    """CKAN saves a resource dict that carries an ``id`` onto the existing resource with that id, whichever dataset
    it belongs to, and moves it into the dataset being saved. Its own check (``resource_id_does_not_exist``) skips
    deleted resources, so an editor could take over another municipality's deleted resource, with its uploaded
    file, by naming its id in a new resource or in their own dataset. Refuse ids of resources of other datasets,
    whatever their state."""
    resources = data_dict.get("resources")
    if not isinstance(resources, list):
        return
    ids = [resource.get("id") if isinstance(resource, dict) else None for resource in resources]
    owners = dict(model.Session.query(model.Resource.id, model.Resource.package_id)
                  .filter(model.Resource.id.in_([i for i in ids if i])))
    errors = [{"id": [tk._("Resource id already exists.")]} if i in owners and owners[i] != package_id else {}
              for i in ids]
    if any(errors):
        raise tk.ValidationError({"resources": errors})


@tk.chained_action
def package_create(up_func, context, data_dict):
    tk.check_access("package_create", context, data_dict)
    _refuse_resources_of_other_datasets(None, data_dict)
    return up_func(context, data_dict)


@tk.chained_action
def package_update(up_func, context, data_dict):
    package = model.Package.get(data_dict.get("id") or data_dict.get("name") or "")
    if package is not None:
        tk.check_access("package_update", context, data_dict)
        _refuse_resources_of_other_datasets(package.id, data_dict)
    result = up_func(context, data_dict)
    if package is not None:
        _hide_past_activities([package.id], context)
    return result


# Activities of datasets that became private


def _hide_past_activities(package_ids, context):
    """CKAN labels an activity with who may see its dataset when the activity is recorded, and never again. A
    dataset that was public and became private (or a private one moved to another municipality) kept its past
    activities, with the full dataset as it was, in the site-wide, user and dashboard streams of everyone. Give the
    past activities of a private dataset its current labels. A dataset that becomes public keeps the labels of its
    private past: what was written while it was private stays with its municipality."""
    if not package_ids or not plugins.plugin_loaded("activity"):
        return
    from ckanext.activity.model import Activity

    packages = model.Session.query(model.Package).filter(model.Package.id.in_(package_ids),
                                                         model.Package.private.is_(True))
    for package in packages:
        labels = sa.cast(get_permission_labels().get_dataset_labels(package), ARRAY(sa.Text))
        (model.Session.query(Activity)
         .filter(Activity.object_id == package.id, sa.not_(Activity.permission_labels.op("<@")(labels)))
         .update({Activity.permission_labels: labels}, synchronize_session=False))
    if not context.get("defer_commit"):
        model.repo.commit()


@tk.chained_action
def package_owner_org_update(up_func, context, data_dict):
    result = up_func(context, data_dict)
    package = model.Package.get(data_dict.get("id") or "")
    if package is not None:
        _hide_past_activities([package.id], context)
    return result


@tk.chained_action
def bulk_update_private(up_func, context, data_dict):
    result = up_func(context, data_dict)
    _hide_past_activities(list(data_dict.get("datasets") or []), context)
    return result


def _without_hidden_view_activities(activities, context):
    """The activities of resource views carry no permission labels, and CKAN shows every activity without labels to
    everyone: the user and dashboard streams showed the views of private datasets (title, resource and dataset id)
    to anybody. Keep those of datasets the user may read. A page of the stream can come out shorter than asked."""
    labels = _user_labels(context)
    if labels is None:
        return activities
    readable = {}

    def shown(activity):
        if not (activity.get("activity_type") or "").endswith("resource view"):
            return True
        package_id = activity.get("object_id")
        if package_id not in readable:
            package = model.Package.get(package_id)
            readable[package_id] = package is not None and _readable(package, labels)
        return readable[package_id]

    return [activity for activity in activities if shown(activity)]


@tk.chained_action
@tk.side_effect_free
def user_activity_list(up_func, context, data_dict):
    return _without_hidden_view_activities(up_func(context, data_dict), context)


@tk.chained_action
@tk.side_effect_free
def dashboard_activity_list(up_func, context, data_dict):
    return _without_hidden_view_activities(up_func(context, data_dict), context)


# Lists that name private datasets


@tk.chained_action
@tk.side_effect_free
def member_list(up_func, context, data_dict):
    """CKAN lists every dataset member of an organisation to everyone, private ones included: anybody could collect
    the ids of a municipality's private datasets. List the datasets the user may read."""
    members = up_func(context, data_dict)
    labels = _user_labels(context)
    if labels is None:
        return members
    package_ids = [table_id for table_id, table_name, _capacity in members if table_name == "package"]
    readable = {package.id for package in model.Session.query(model.Package)
                .filter(model.Package.id.in_(package_ids)) if _readable(package, labels)}
    return [member for member in members if member[1] != "package" or member[0] in readable]


@tk.chained_action
@tk.side_effect_free
@auth_audit_exempt  # as the original: ckanext-harvest checks no access for this list
def harvest_source_list(up_func, context, data_dict):
    """ckanext-harvest lists every harvest source, private ones included (with URL and configuration), to anonymous
    users. List the sources the user may see."""
    sources = up_func(context, data_dict)
    if _sees_everything(context):
        return sources
    return [source for source in sources if may_access("package_show", context, {"id": source["id"]})]


@tk.chained_action
@tk.side_effect_free
@auth_audit_exempt  # as the original, which checks no access for _table_metadata
def datastore_search(up_func, context, data_dict):
    """The DataStore answers a search of its ``_table_metadata`` to everyone, without any check: the ids of all
    tables, private datasets' included, and their aliases. Only sysadmins may list the tables."""
    if data_dict.get("resource_id") == TABLE_METADATA and not _sees_everything(context):
        raise tk.NotAuthorized(tk._("Only sysadmins can list the DataStore tables"))
    return up_func(context, data_dict)


# Tags: CKAN lists, searches and shows every tag, also those only private datasets carry.


def _readable_tags(context):
    """The free tags of the datasets the user may read (None for who sees everything), from the search index,
    which applies the user's permission labels."""
    if _sees_everything(context):
        return None
    search = tk.get_action("package_search")(user_context(context), {
        "q": "*:*", "rows": 0, "include_private": True, "facet.field": ["tags"], "facet.limit": -1})
    return set(search["facets"].get("tags", {}))


def _free_tags(data_dict):
    """Vocabulary tags (code lists a sysadmin maintains) are not filtered."""
    return not (data_dict.get("vocabulary_id") or data_dict.get("vocabulary"))


@tk.chained_action
@tk.side_effect_free
def tag_list(up_func, context, data_dict):
    tags = up_func(context, data_dict)
    readable = _readable_tags(context) if _free_tags(data_dict) else None
    if readable is None:
        return tags
    return [tag for tag in tags if (tag["name"] if isinstance(tag, dict) else tag) in readable]


@tk.chained_action
@tk.side_effect_free
def tag_search(up_func, context, data_dict):
    result = up_func(context, data_dict)
    readable = _readable_tags(context) if _free_tags(data_dict) else None
    if readable is None:
        return result
    tags = [tag for tag in result["results"] if tag["name"] in readable]
    return {**result, "count": len(tags), "results": tags}


@tk.chained_action
@tk.side_effect_free
def tag_autocomplete(up_func, context, data_dict):
    names = up_func(context, data_dict)
    readable = _readable_tags(context) if _free_tags(data_dict) else None
    return names if readable is None else [name for name in names if name in readable]


@tk.chained_action
@tk.side_effect_free
def tag_show(up_func, context, data_dict):
    tag = up_func(context, data_dict)
    readable = _readable_tags(context) if not tag.get("vocabulary_id") else None
    if readable is not None and tag["name"] not in readable:
        raise tk.ObjectNotFound()
    return tag
