"""Municipalities as tenants: organisations, defaults, isolation and per-tenant pages."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.config_declarations
class TenantPlugin(p.SingletonPlugin):
    pass
