"""Plugin interfaces of ckanext-tenant."""
from __future__ import annotations

from ckan.plugins.interfaces import Interface


class ITenantWidgets(Interface):
    """Contribute live widgets (water levels, traffic, ...) to a municipality's page (/kommune/<name> and the
    home page of its host) without touching the tenant templates.

    Example (in another extension's plugin)::

        class PegelPlugin(p.SingletonPlugin):
            p.implements(ITenantWidgets)

            def tenant_widgets(self, tenant):
                stations = pegel_stations_of(tenant["id"])
                if not stations:
                    return []
                return [{"title": tk._("Water levels"), "template": "pegel/snippets/tenant_widget.html",
                         "data": {"stations": stations}, "order": 10}]

    The page renders each widget in its own panel, in ``order``, inside the Jinja block ``tenant_widgets`` of
    ``tenant/read.html`` (a template that extends it can also fill that block).
    """

    def tenant_widgets(self, tenant: dict) -> list[dict]:
        """The widgets for one municipality, or an empty list.

        :param tenant: the organisation dict (``organization_show``) of the municipality.
        :returns: a list of dicts with the keys

            - ``template`` (required): a snippet path; it is rendered with the variables ``tenant`` and
              ``widget`` (this dict), and may include its own assets (``{% asset %}``) and ``ckan.module``
              JavaScript for live updates;
            - ``title``: the panel's heading, already translated (``tk._()``); no heading when missing;
            - ``data``: anything the snippet needs (``widget.data``);
            - ``order``: sort key among all plugins' widgets (default 100).

        It is called on every page view with the visitor's permissions in effect: return only what the visitor
        may see.
        """
        return []
