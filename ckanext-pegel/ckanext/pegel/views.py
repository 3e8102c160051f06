"""Blueprint ``pegel``: the Pegel dashboard ``/pegel`` (registered by the blueprints blanket)."""
from flask import Blueprint, request

import ckan.plugins.toolkit as tk

from ckanext.pegel import dashboard
from ckanext.tenant import hosts

pegel = Blueprint("pegel", __name__)


@pegel.route("/pegel")
def index():
    """Map and list of every station the visitor may see, optionally of one municipality (``?kommune=<name>``).
    The list is rendered here, so the page works without JavaScript; the script only refreshes it. On a
    municipality's own host (ckanext.tenant.hosts) its stations come first: the filter starts there, and
    ``?kommune=`` (empty) shows all."""
    kommune = request.args.get(dashboard.FILTER_PARAM)
    if kommune is None:
        host_tenant = hosts.current_tenant()
        kommune = host_tenant["name"] if host_tenant else None
    return tk.render(dashboard.TEMPLATE, dashboard.page(kommune))
