"""Turtle of each dataset, cached in Redis, so that paging through /catalog.ttl does not rebuild and
re-serialise every unchanged dataset on every harvest.

Building a dataset's graph and writing it as Turtle is almost all of a catalog page's time (the search is
a few per cent). A Turtle document may repeat @prefix directives anywhere, and blank nodes written by
rdflib are unique, so a page can be assembled from the catalog's own Turtle (catalog, dcat:dataset links,
hydra paging) followed by one cached fragment per dataset, and parses to the same graph as a page written
in one go.

A fragment's key holds the dataset's id and metadata_modified, so an edit makes a new key; the profiles,
the site URL and the bundle version are part of the key too. A fragment is rendered from the dataset dict
the search index holds, exactly as an uncached page would be, so it is never staler than the index (an
organisation's new title, say, shows once its datasets are reindexed). Every read renews a fragment's
expiry (``ckanext.suedwest.catalog_cache_ttl``): only replaced versions and datasets nobody reads expire.
Only datasets the (public) catalog search returned are ever looked up. Other formats are served as before.

Fragments are written when a public dataset is indexed (``prerender``, called from the plugin's
``before_dataset_index``), from the very dict that the catalog search returns for it later. So the catalog
is warm after every save, and ``ckan search-index rebuild`` warms it completely, e.g. after an upgrade
(the bundle version is part of the key) or a Redis restart. A page only renders what is still missing.
Bulk imports (harvesters) collect the datasets instead (``prerender_later``) and hand them to a background
job once they are searchable (``enqueue_prerender``), so an import does not wait for the fragments.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import version

from rdflib import Graph, URIRef

import ckan.plugins.toolkit as tk
from ckan.lib.redis import connect_to_redis
from ckanext.dcat.processors import RDFSerializer
from ckanext.dcat.profiles import DCAT
from ckanext.dcat.utils import dataset_uri, url_to_rdflib_format

TTL_OPTION = "ckanext.suedwest.catalog_cache_ttl"

log = logging.getLogger(__name__)


def cache_enabled(rdf_format: str | None) -> bool:
    return (tk.config.get(TTL_OPTION) > 0 and url_to_rdflib_format(rdf_format or "xml") == "turtle"
            and not tk.asbool(tk.config.get("ckanext.dcat.expose_subcatalogs")))


# The ids of datasets whose fragments wait for a background job, while a bulk import runs (prerender_later).
_later: ContextVar[set | None] = ContextVar("suedwest_catalog_prerender_later", default=None)


def prerender(index_dict: dict) -> None:
    """Write the fragment of a public, active dataset that is being indexed. A failure is logged and left to
    the catalog page (which renders what is missing): indexing and saving must not fail because of it."""
    if (not cache_enabled("ttl") or index_dict.get("capacity") != "public" or index_dict.get("state") != "active"
            or index_dict.get("dataset_type") != "dataset"):
        return
    later = _later.get()
    if later is not None:
        later.add(index_dict["id"])
        return
    try:
        FragmentCachingSerializer().fragments([json.loads(index_dict["validated_data_dict"])])
    except Exception:
        log.warning("Could not prerender the catalog fragment of dataset %s", index_dict.get("id"), exc_info=True)


@contextmanager
def prerender_later(dataset_ids: set):
    """Inside the block, indexing collects the ids of the datasets whose fragments are due in ``dataset_ids``
    instead of rendering them (about 10 ms each); pass them to ``enqueue_prerender`` once they are committed
    to the search index."""
    token = _later.set(dataset_ids)
    try:
        yield
    finally:
        _later.reset(token)


def enqueue_prerender(dataset_ids) -> None:
    """Render the fragments of these (committed) datasets in CKAN's background jobs worker. If the job cannot
    be queued, the catalog page renders them when it first serves them."""
    ids = sorted(dataset_ids)
    if not ids:
        return
    try:
        tk.enqueue_job(render_fragments, [ids], title=f"Catalog fragments of {len(ids)} datasets")
    except Exception:
        log.warning("Could not queue the catalog fragments of %d datasets; the catalog renders them on demand",
                    len(ids), exc_info=True)


def render_fragments(dataset_ids: list[str]) -> int:
    """Background job: write the fragments of the public datasets among ``dataset_ids``, from the dicts the
    catalog search returns (the same as ``prerender`` uses). Returns how many datasets it found."""
    found = 0
    for start in range(0, len(dataset_ids), 200):
        chunk = dataset_ids[start:start + 200]
        results = tk.get_action("package_search")({"ignore_auth": True}, {
            "fq": "id:(" + " OR ".join(f'"{dataset_id}"' for dataset_id in chunk) + ")", "rows": len(chunk),
            "include_private": False})["results"]
        FragmentCachingSerializer().fragments(results)
        found += len(results)
    return found


class FragmentCachingSerializer(RDFSerializer):
    """ckanext-dcat's serializer, writing the datasets of a Turtle catalog page from cached fragments."""

    def _load_profiles(self, profile_names):
        # ckanext-dcat scans every installed distribution's entry points for each serializer (about 10 ms),
        # and one is made per indexed dataset and per catalog page; the profiles installed do not change
        # while the process runs.
        return list(_profile_classes(tuple(profile_names), super()._load_profiles))

    def serialize_catalog(self, catalog_dict=None, dataset_dicts=None, _format="xml", pagination_info=None):
        if not cache_enabled(_format):
            return super().serialize_catalog(catalog_dict, dataset_dicts, _format, pagination_info)
        catalog_ref = self.graph_from_catalog(catalog_dict)
        for dataset_dict in dataset_dicts or []:
            self.g.add((catalog_ref, DCAT.dataset, URIRef(dataset_uri(dataset_dict))))
        if pagination_info:
            self._add_pagination_triples(pagination_info)
        return "".join([self.g.serialize(format="turtle"), *self.fragments(dataset_dicts or [])])

    def fragments(self, dataset_dicts):
        """The Turtle of each dataset, from the cache or rendered and stored."""
        redis = connect_to_redis()
        ttl = tk.config.get(TTL_OPTION)
        prefix = self._key_prefix()
        keys = [f"{prefix}:{d['id']}:{d.get('metadata_modified')}" for d in dataset_dicts]
        # Reading a fragment renews its expiry: what the catalog serves stays, replaced versions expire.
        reads = redis.pipeline(transaction=False)
        for key in keys:
            reads.getex(key, ex=ttl)
        cached = reads.execute() if keys else []
        fragments = []
        for key, dataset_dict, fragment in zip(keys, dataset_dicts, cached):
            if fragment is None:
                fragment = self._serialize_dataset_alone(dataset_dict).encode("utf-8")
                redis.setex(key, ttl, fragment)
            fragments.append(fragment.decode("utf-8"))
        return fragments

    def _serialize_dataset_alone(self, dataset_dict):
        catalog_graph, self.g = self.g, Graph()
        for prefix, namespace in catalog_graph.namespaces():
            self.g.bind(prefix, namespace)
        try:
            self.graph_from_dataset(dataset_dict)
            return self.g.serialize(format="turtle")
        finally:
            self.g = catalog_graph

    def _key_prefix(self):
        """Profiles, site URL and bundle version: a change to any of them makes new keys."""
        context = "|".join([tk.config.get("ckan.site_url"), _bundle_version(),
                            *(profile.__module__ + "." + profile.__name__ for profile in self._profiles)])
        return f"suedwest:catalog-ttl:{hashlib.sha1(context.encode('utf-8')).hexdigest()[:12]}"


_PROFILES: dict = {}


def _profile_classes(names: tuple, load) -> tuple:
    """The profile classes of ``names``, loaded by ``load`` on first use in this process."""
    if names not in _PROFILES:
        _PROFILES[names] = tuple(load(list(names)))
    return _PROFILES[names]


@functools.cache
def _bundle_version() -> str:
    # Read from the installed metadata once per process: an upgrade restarts CKAN.
    return version("ckanext-suedwest-bundle")
