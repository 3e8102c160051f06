"""Water levels: PEGELONLINE harvester, MQTT sensor ingest, thresholds, pegel_view and dashboard."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from ckanext.pegel import dashboard, preview
from ckanext.tenant.interfaces import ITenantWidgets


@tk.blanket.actions
@tk.blanket.auth_functions
@tk.blanket.blueprints
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.helpers
class PegelPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    # ITranslation: DefaultTranslation reads i18n/ next to this module, domain "ckanext-pegel"
    p.implements(p.ITranslation)
    p.implements(p.IResourceView, inherit=True)
    p.implements(ITenantWidgets)

    # IConfigurer

    def update_config(self, config):
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "pegel")

    # IResourceView: the chart of a station's series (preview.py)

    def info(self):
        return preview.info()

    def can_view(self, data_dict):
        return preview.can_view(data_dict)

    def setup_template_variables(self, context, data_dict):
        return preview.template_variables(data_dict)

    def view_template(self, context, data_dict):
        return preview.TEMPLATE

    # ITenantWidgets: the municipality's stations on its page (dashboard.py)

    def tenant_widgets(self, tenant):
        return dashboard.tenant_widgets(tenant)
