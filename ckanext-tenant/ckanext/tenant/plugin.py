"""Municipalities as tenants: organisations, defaults, isolation and per-tenant pages."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.validators
class TenantPlugin(p.SingletonPlugin):
    pass
