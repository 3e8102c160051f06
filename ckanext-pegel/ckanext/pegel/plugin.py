"""Water levels: PEGELONLINE harvester, MQTT sensor ingest, thresholds, pegel_view and dashboard."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation


@tk.blanket.actions
@tk.blanket.auth_functions
@tk.blanket.cli
@tk.blanket.config_declarations
class PegelPlugin(p.SingletonPlugin, DefaultTranslation):
    # ITranslation: DefaultTranslation reads i18n/ next to this module, domain "ckanext-pegel"
    p.implements(p.ITranslation)
