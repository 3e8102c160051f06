"""Traffic: GTFS, GBFS and parking harvesters, live pollers, mobility_view, mobilityDCAT-AP."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.config_declarations
class MobilityPlugin(p.SingletonPlugin):
    pass
