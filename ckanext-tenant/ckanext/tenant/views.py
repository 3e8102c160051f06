"""Pages and endpoints of one municipality (blueprint registered by the blueprints blanket)."""
from flask import Blueprint, make_response

import ckan.plugins.toolkit as tk
from ckanext.dcat.utils import CONTENT_TYPES

tenant = Blueprint("tenant", __name__)


@tenant.route("/kommune/<name>/catalog.<any(ttl, rdf, xml, jsonld):_format>")
def catalog(name, _format):
    """The DCAT catalog of one municipality, so that GovData can harvest it on its own: its public datasets,
    with the municipality as the catalog's title and publisher; paging and modified_since as /catalog.*."""
    try:
        organization = tk.get_action("organization_show")({}, {"id": name, "include_datasets": False})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Municipality not found"))
    data_dict = {
        "page": tk.request.args.get("page"),
        "modified_since": tk.request.args.get("modified_since"),
        "fq": f'owner_org:"{organization["id"]}"',
        "format": _format,
        "catalog": {"title": organization["title"], "description": organization.get("description") or None,
                    "homepage": organization.get("website") or None, "publisher_name": organization["title"]},
    }
    try:
        output = tk.get_action("dcat_catalog_show")({}, data_dict)
    except tk.ValidationError as error:
        return tk.abort(409, str(error))
    response = make_response(output)
    response.headers["Content-Type"] = CONTENT_TYPES[_format]
    return response
