"""Template helpers of ckanext-tenant (registered by the helpers blanket)."""
from __future__ import annotations

import logging

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.tenant import hosts
from ckanext.tenant.logic.validators import form_defaults
from ckanext.tenant.interfaces import ITenantWidgets

__all__ = ["tenant_widgets", "tenant_search_scope", "tenant_platform_url", "tenant_form_defaults"]

log = logging.getLogger(__name__)


def tenant_widgets(tenant: dict) -> list[dict]:
    """The live widgets that plugins (ITenantWidgets) contribute to a municipality's page, in their order.
    A widget without a template is left out (and logged): it could not be rendered."""
    widgets = []
    for plugin in p.PluginImplementations(ITenantWidgets):
        for widget in plugin.tenant_widgets(tenant) or []:
            if not widget.get("template"):
                log.warning("%s returned a tenant widget without a template: left out", plugin.name)
                continue
            widgets.append(widget)
    return sorted(widgets, key=lambda widget: widget.get("order", 100))


def tenant_search_scope() -> dict | None:
    """The municipality (id, name, title) the current dataset search is limited to by its host, or None."""
    return hosts.search_scope()


def tenant_platform_url(path: str = "/") -> str:
    """An address on the platform's main host (ckan.site_url), for links out of a municipality's host."""
    return tk.config.get("ckan.site_url").rstrip("/") + path



def tenant_form_defaults() -> dict:
    """The dataset form's pre-filled values for each municipality the current user may publish in
    (organisation id -> form field name -> value), read by the tenant-form-defaults module."""
    return {organization["id"]: form_defaults(model.Group.get(organization["id"]))
            for organization in tk.h.organizations_available("create_dataset")}
