"""Blueprint ``pegel``: the Pegel dashboard ``/pegel`` (registered by the blueprints blanket)."""
from flask import Blueprint, request

import ckan.plugins.toolkit as tk

from ckanext.pegel import dashboard

pegel = Blueprint("pegel", __name__)


@pegel.route("/pegel")
def index():
    """Map and list of every station the visitor may see, optionally of one municipality (``?kommune=<name>``).
    The list is rendered here, so the page works without JavaScript; the script only refreshes it."""
    return tk.render(dashboard.TEMPLATE, dashboard.page(request.args.get(dashboard.FILTER_PARAM)))
