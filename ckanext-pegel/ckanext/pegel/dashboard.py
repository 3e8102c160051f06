"""The Pegel dashboard: map and list of all stations (job H2 fills this in)."""


def tenant_widgets(tenant):
    return []
