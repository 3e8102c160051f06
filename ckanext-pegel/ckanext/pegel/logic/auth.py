"""Who may point a PEGELONLINE harvest source at a municipality.

A source writes its stations' datasets into the municipality its configuration names ("owner"), or into
every municipality whose area holds a station ("by_location"). ckanext-harvest only checks the source's
own organisation, so without this an editor of one municipality could fill another's. Harvest sources
are datasets of type "harvest": every way of creating or changing one (API, /harvest form, patch) ends
in the package_create or package_update check, which is where this is chained.
"""
import ckan.authz as authz
import ckan.plugins.toolkit as tk

from ckanext.pegel.harvesters import config as source_config

SOURCE_TYPE = "pegelonline"


@tk.chained_auth_function
def package_create(next_auth, context, data_dict=None):
    return _owner_check(context, data_dict) or next_auth(context, data_dict)


@tk.chained_auth_function
def package_update(next_auth, context, data_dict=None):
    return _owner_check(context, data_dict) or next_auth(context, data_dict)


def _owner_check(context, data_dict):
    """A denial when the source's configuration names municipalities the user may not publish in; None when
    the usual checks decide. A configuration that does not parse is left to the harvester's validation."""
    data_dict = data_dict or {}
    if data_dict.get("type") != "harvest" or data_dict.get("source_type") != SOURCE_TYPE:
        return None
    try:
        owner = source_config.parse(data_dict.get("config")).owner
    except source_config.ConfigError:
        return None
    user = context.get("user")
    if owner is None or authz.is_sysadmin(user):
        return None
    if owner == source_config.BY_LOCATION:
        return {"success": False, "msg": tk._(
            'Only a sysadmin may distribute stations to the municipalities by location ("by_location")')}
    organization = source_config.organisation(owner)
    if organization is not None and not authz.has_user_permission_for_group_or_org(
            organization.id, user, "create_dataset"):
        return {"success": False, "msg": tk._(
            'You may not publish datasets in "{name}", the owner this configuration names').format(name=owner)}
    return None


@tk.auth_allow_anonymous_access
def pegel_status(context, data_dict=None):
    """Anyone may ask; the action only lists the stations whose datasets the caller may see."""
    return {"success": True}


@tk.auth_allow_anonymous_access
def pegel_series(context, data_dict=None):
    """Whoever may see the series resource may read its chart data: private stations stay private."""
    resource_id = (data_dict or {}).get("resource_id")
    return authz.is_authorized("resource_show", context, {"id": resource_id})
