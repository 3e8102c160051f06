"""A test-only plugin (entry point ``tenant_test_widgets`` in ``ckan.test_plugins``) that contributes widgets to
municipality pages through ITenantWidgets, as ckanext-pegel's water-level dashboard will."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.tenant.interfaces import ITenantWidgets


class TenantTestWidgets(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(ITenantWidgets)

    # IConfigurer

    def update_config(self, config):
        tk.add_template_directory(config, "templates")

    # ITenantWidgets

    def tenant_widgets(self, tenant):
        """Two widgets for Landkreis Kusel only, the later-ordered one first; one without a template."""
        if tenant["name"] != "landkreis-kusel":
            return []
        return [
            {"title": "Verkehrslage", "template": "tenant_test/widget.html", "data": {"value": "fließend"},
             "order": 20},
            {"title": "Pegelstände", "template": "tenant_test/widget.html", "data": {"value": "142 cm"},
             "order": 10},
            {"title": "Ohne Vorlage"},
        ]
