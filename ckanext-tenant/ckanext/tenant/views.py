"""Pages and endpoints of one municipality (blueprint registered by the blueprints blanket)."""
from flask import Blueprint, make_response

import ckan.plugins.toolkit as tk
from ckanext.dcat.utils import CONTENT_TYPES, check_access_header

from ckanext.tenant import hosts, portal

tenant = Blueprint("tenant", __name__)


@tenant.route("/kommune")
def index():
    """The platform's municipalities, each with its logo and number of datasets."""
    return tk.render("tenant/index.html", {"tenants": portal.tenant_overview()})


@tenant.route("/kommune/<name>")
def read(name):
    """A municipality's page: logo, facts, datasets by theme, the latest datasets and live widgets."""
    try:
        page = portal.tenant_page(name)
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Municipality not found"))
    return tk.render("tenant/read.html", page)


@tenant.before_app_request
def tenant_home():
    """On a municipality's own host (ckanext.tenant.hosts) the home page is that municipality's page. With DCAT
    content negotiation ckanext-dcat owns "/" too: a client asking for RDF still gets the (unscoped) catalog."""
    rule = tk.request.url_rule
    if rule is None or rule.rule != "/":
        return None
    if tk.request.endpoint == "dcat.read_catalog" and check_access_header():
        return None
    current = hosts.current_tenant()
    return read(current["name"]) if current else None


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
