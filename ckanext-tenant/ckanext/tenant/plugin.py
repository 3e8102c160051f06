"""Municipalities as tenants: organisations, defaults, isolation and per-tenant pages."""
from collections import OrderedDict

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from ckanext.tenant import hosts
from ckanext.tenant.logic import action, auth


@tk.blanket.actions(action.get_actions)
@tk.blanket.auth_functions(auth.get_auth_functions)
@tk.blanket.blueprints
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.helpers
@tk.blanket.validators
class TenantPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.ITranslation)

    # IConfigurer

    def update_config(self, config):
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "ckanext-tenant")

    # IConfigurable

    def configure(self, config):
        """A malformed host mapping stops CKAN here, at startup, instead of misrouting requests."""
        hosts.parse(config.get(hosts.OPTION) or [], config.get("ckan.site_url") or "")

    # IFacets

    def dataset_facets(self, facets_dict, package_type):
        """The municipality first among the search facets, under its German name "Kommune"."""
        facets = OrderedDict(organization=tk._("Municipality"))
        facets.update((key, label) for key, label in facets_dict.items() if key != "organization")
        return facets

    # IPackageController

    def before_dataset_search(self, search_params):
        """On a municipality's own host the web UI's dataset search lists only its datasets (hosts.py)."""
        return hosts.scope_search(search_params)
