"""Auth functions that keep the municipalities (organisations) apart where CKAN core or ckanext-harvest leave a
gap (registered through :func:`get_auth_functions` by the auth-functions blanket in plugin.py). Each chains the
original and only ever narrows it; each docstring says which gap it closes. Sysadmins never reach auth functions."""
import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk

__all__ = ["activity_show", "bulk_update_delete", "bulk_update_private", "bulk_update_public",
           "harvest_object_show", "member_create", "resource_view_update"]
# Chains of auth functions of other plugins: a chain without its original would stop CKAN.
_FROM_PLUGIN = {"activity_show": "activity", "harvest_object_show": "harvest"}


def get_auth_functions():
    """The chained auth functions, without those whose original comes from a plugin that is not loaded."""
    return {name: globals()[name] for name in __all__
            if name not in _FROM_PLUGIN or plugins.plugin_loaded(_FROM_PLUGIN[name])}


def _denied(message):
    return {"success": False, "msg": message}


def user_context(context):
    """A new context for the user of ``context`` (auth functions and actions store objects in the context they
    get; CKAN's read checks expect ``auth_user_obj``, None for anonymous users)."""
    return {"model": model, "session": model.Session, "user": context.get("user") or "",
            "auth_user_obj": context.get("auth_user_obj")}


def may_access(auth, context, data_dict):
    """Whether the user of ``context`` passes the auth function ``auth``."""
    try:
        tk.check_access(auth, user_context(context), data_dict)
    except tk.NotAuthorized:
        return False
    return True


def _bulk_update(next_auth, context, data_dict):
    """CKAN checks the organisation named in ``org_id`` only. Its bulk update then changes just the datasets of
    that organisation, but the activity plugin records a "changed" activity for every dataset named: an admin of
    one municipality could write activities into another's datasets and streams."""
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    organization = model.Group.get(data_dict.get("org_id") or "")
    datasets = data_dict.get("datasets") or []
    if not isinstance(datasets, list) or not all(isinstance(dataset, str) for dataset in datasets):
        return _denied(tk._("Only datasets of this organization can be changed here"))
    owned = (model.Session.query(model.Package.id)
             .filter(model.Package.id.in_(set(datasets)), model.Package.owner_org == organization.id).count()
             if organization and datasets else 0)
    if owned != len(set(datasets)):
        return _denied(tk._("Only datasets of this organization can be changed here"))
    return result


@tk.chained_auth_function
def bulk_update_private(next_auth, context, data_dict):
    return _bulk_update(next_auth, context, data_dict)


@tk.chained_auth_function
def bulk_update_public(next_auth, context, data_dict):
    return _bulk_update(next_auth, context, data_dict)


@tk.chained_auth_function
def bulk_update_delete(next_auth, context, data_dict):
    return _bulk_update(next_auth, context, data_dict)


@tk.chained_auth_function
def member_create(next_auth, context, data_dict):
    """CKAN lets an organisation's admin make any dataset a member of the organisation, also one of another
    municipality (a membership row beside the dataset's real owner). Only someone who may edit the dataset may
    add it to an organisation."""
    result = next_auth(context, data_dict)
    if not result.get("success") or data_dict.get("object_type") != "package":
        return result
    group = model.Group.get(data_dict.get("id"))
    package = model.Package.get(data_dict.get("object"))
    if group is None or not group.is_organization or package is None:
        return result
    if not may_access("package_update", context, {"id": package.id}):
        return _denied(tk._("Only datasets you may edit can be added to an organization"))
    return result


@tk.chained_auth_function
def resource_view_update(next_auth, context, data_dict):
    """CKAN checks the resource named in ``resource_id``, which the caller chooses, instead of the resource the view
    belongs to: an editor could change another municipality's view by naming a resource of their own beside it
    (and got a server error when leaving ``resource_id`` out). Check the view's own resource, and the resource a
    view is moved to."""
    view = model.ResourceView.get(data_dict.get("id") or "")
    if view is None:
        raise tk.ObjectNotFound(tk._("Resource view not found"))
    resource_ids = {view.resource_id, data_dict.get("resource_id") or view.resource_id}
    for resource_id in sorted(resource_ids):
        result = next_auth(context, {**data_dict, "resource_id": resource_id})
        if not result.get("success"):
            return result
    return {"success": True}


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def harvest_object_show(next_auth, context, data_dict):
    """ckanext-harvest shows every harvest object to everyone, with the raw record it imported: the content of a
    private dataset, or of a private harvest source. Show it to whoever may see the dataset it became and the
    source it came from."""
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    from ckanext.harvest.model import HarvestObject

    if data_dict.get("id"):
        harvest_object = HarvestObject.get(data_dict["id"])
        if harvest_object is None:
            return result  # the action answers "not found"
        checks = [("harvest_source_show", harvest_object.harvest_source_id)]
        if harvest_object.package_id:
            checks.append(("package_show", harvest_object.package_id))
    elif data_dict.get("dataset_id"):
        checks = [("package_show", data_dict["dataset_id"])]
    else:
        return result
    for auth, object_id in checks:
        if not may_access(auth, context, {"id": object_id}):
            return _denied(tk._("Not authorized to see this harvest object"))
    return result


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def activity_show(next_auth, context, data_dict):
    """The activity plugin's check reads ``include_data`` from the request and failed with a server error when it
    was not given; its action always returns the activity with its data (the full dataset as it was). Check it as
    what it returns: as ``activity_data_show`` is checked."""
    return next_auth(context, {**data_dict, "include_data": True})
