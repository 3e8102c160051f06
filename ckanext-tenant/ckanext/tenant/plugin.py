"""Municipalities as tenants: organisations, defaults, isolation and per-tenant pages."""
from collections import OrderedDict

import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.blueprints
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.validators
class TenantPlugin(p.SingletonPlugin):
    p.implements(p.IFacets, inherit=True)

    # IFacets

    def dataset_facets(self, facets_dict, package_type):
        """The municipality first among the search facets, under its German name "Kommune"."""
        facets = OrderedDict(organization=tk._("Municipality"))
        facets.update((key, label) for key, label in facets_dict.items() if key != "organization")
        return facets
