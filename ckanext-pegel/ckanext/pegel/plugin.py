"""Water levels: PEGELONLINE harvester, MQTT sensor ingest, thresholds, pegel_view and dashboard."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.cli
@tk.blanket.config_declarations
class PegelPlugin(p.SingletonPlugin):
    pass
