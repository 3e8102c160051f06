"""Host mapping (ckanext.tenant.hosts): web requests on a municipality's own host name see that municipality.

What a mapped host changes, and nothing more:
- its home page (/) is the municipality's page (views.py renders it in place of CKAN's home page);
- its dataset search (/dataset) lists only the municipality's datasets (plugin's before_dataset_search), and
  the search page says so, with a link to the whole platform.
The API, the DCAT endpoints and all other pages answer the same on every host, so that machines (GovData,
scripts) get one stable interface; they select a municipality explicitly (``fq=organization:<name>``,
``/kommune/<name>/catalog.ttl``).

The host is the request's Host header as werkzeug reads it. CKAN does not install a proxy fix, so a client's
X-Forwarded-Host is ignored, and a reverse proxy must pass the original Host header.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import g, has_request_context

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.exceptions import CkanConfigurationException

log = logging.getLogger(__name__)

OPTION = "ckanext.tenant.hosts"
SCOPED_ENDPOINTS = frozenset({"dataset.search"})
_ENTRY = re.compile(r"^(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?)=(?P<tenant>[a-z0-9_-]{2,100})$")
_PORT = re.compile(r":\d+$")
_warned: set[str] = set()


def parse(entries, site_url: str = "") -> dict[str, str]:
    """``host=tenant`` entries as {host: tenant name}; raises CkanConfigurationException naming the entry
    that is malformed, a host listed twice, or the host of ``site_url`` (the platform's main host)."""
    if isinstance(entries, str):
        entries = entries.split()
    main_host = (urlsplit(site_url).netloc or "").lower()
    mapping: dict[str, str] = {}
    for entry in entries:
        match = _ENTRY.match(entry.strip().lower())
        if not match:
            raise CkanConfigurationException(
                f"{OPTION}: '{entry}' is not an entry of the form host=tenant "
                f"(e.g. daten.kaiserslautern.de=kaiserslautern)")
        host, tenant = match.group("host"), match.group("tenant")
        if host in mapping:
            raise CkanConfigurationException(f"{OPTION}: host '{host}' is listed twice")
        if main_host and host in (main_host, _PORT.sub("", main_host)):
            raise CkanConfigurationException(
                f"{OPTION}: '{host}' is the host of ckan.site_url; the platform's main host cannot be "
                f"limited to one municipality")
        mapping[host] = tenant
    return mapping


def mapping() -> dict[str, str]:
    """The configured mapping (checked at startup by the plugin's configure())."""
    return parse(tk.config.get(OPTION) or [], tk.config.get("ckan.site_url") or "")


def tenant_name_for(host: str) -> str | None:
    """The tenant a host belongs to: an entry with the exact host (and port) wins over one without port."""
    hosts = mapping()
    host = (host or "").lower()
    return hosts.get(host) or hosts.get(_PORT.sub("", host))


def current_tenant() -> dict | None:
    """The municipality (id, name, title) whose host the current web request came in on, or None: outside
    a request, on an unmapped host, or when the mapped name has no active organisation (logged once)."""
    if not has_request_context():
        return None
    if "tenant_host" not in g:
        g.tenant_host = _lookup(tenant_name_for(tk.request.host))
    return g.tenant_host


def _lookup(name: str | None) -> dict | None:
    if not name:
        return None
    group = model.Group.get(name)
    if group is None or not group.is_organization or group.state != "active":
        if name not in _warned:
            _warned.add(name)
            log.warning("%s maps a host to '%s', which is not an active organisation: that host shows the "
                        "whole platform (run `ckan tenant sync` or correct the name)", OPTION, name)
        return None
    return {"id": group.id, "name": group.name, "title": group.title}


def search_scope() -> dict | None:
    """The municipality that limits the current request's dataset search: only the web UI's dataset search
    on a mapped host is limited; the API, DCAT endpoints and other pages are not."""
    if not has_request_context() or tk.request.endpoint not in SCOPED_ENDPOINTS:
        return None
    return current_tenant()


def scope_search(search_params: dict) -> dict:
    """IPackageController.before_dataset_search: add the owner filter when the request is scoped (as a separate
    filter query, so that it cannot be undone by anything in q or fq)."""
    tenant = search_scope()
    if tenant:
        search_params["fq_list"] = [*search_params.get("fq_list", []), f'owner_org:"{tenant["id"]}"']
    return search_params
