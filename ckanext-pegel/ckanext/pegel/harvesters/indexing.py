"""Indexing of harvested datasets: one Solr commit per batch instead of one per dataset, and a new
dataset indexed once instead of twice.

With ``ckan.search.solr_commit = true`` (the platform's setting) CKAN commits the Solr index after every
dataset it indexes; a commit costs a quarter of a second and more on a busy core, several times the rest of
creating a station's dataset. While the harvester writes a dataset, the setting is switched off, and the
index is committed when the job has no object left to import, or after ``MAX_PENDING`` datasets or
``MAX_SECONDS`` seconds, whichever comes first (the datasets become searchable then).

Harvest imports run in the single-threaded fetch consumer (or ``ckan harvester import``), so switching a
process-wide setting for the duration of one action is safe there.

CKAN 2.11 indexes a dataset created with resources twice in the same commit
(``ckan/model/modification.py``): once as "new", and once more as "changed" because its new resources,
tags and memberships name it as their related package (earlier CKAN versions left new packages out of that
fan-out). Both index the very same state, read after the same flush. While the harvester writes a dataset,
a ``before_commit`` listener that runs before CKAN's takes the objects that only relate to datasets created
in the same commit out of that fan-out, so each new dataset is indexed once. It only does so while CKAN's
search indexing is the sole observer of domain object changes (``IDomainObjectModification``,
``IResourceUrlChange``): another observer would miss the notifications of those objects.

The catalog fragments of the harvested datasets (ckanext-suedwest's ``catalog_cache``) are rendered by a
background job after each Solr commit instead of during the import.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager

import sqlalchemy as sa

import ckan.lib.search as search
import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk

from ckanext.suedwest import catalog_cache

log = logging.getLogger(__name__)

SETTING = "ckan.search.solr_commit"
MAX_PENDING = 200
MAX_SECONDS = 10.0


class DeferredCommits:
    def __init__(self):
        self.pending = 0
        self.since = None
        self.fragments_due: set[str] = set()

    @contextmanager
    def deferred(self):
        """Index without committing inside the block (if the site commits at all), a dataset created in it
        only once, and its catalog fragment after the commit."""
        if not tk.config.get(SETTING):
            with new_datasets_indexed_once():
                yield
            return
        # The catalog fragments wait for the commit too: a background job renders them from the index.
        with new_datasets_indexed_once(), catalog_cache.prerender_later(self.fragments_due):
            tk.config[SETTING] = False
            try:
                yield
            finally:
                tk.config[SETTING] = True
                self.pending += 1
                self.since = self.since or time.monotonic()

    def commit_if_due(self, job_done: bool) -> None:
        """Commit what is pending when the job is done or the batch is big or old enough."""
        if not self.pending:
            return
        if job_done or self.pending >= MAX_PENDING or time.monotonic() - self.since >= MAX_SECONDS:
            try:
                search.commit()
            except search.SearchIndexError:  # the next commit, of any dataset, makes them visible
                log.exception("Solr commit after %d harvested datasets failed", self.pending)
            else:
                catalog_cache.enqueue_prerender(self.fragments_due)
                self.fragments_due.clear()
            self.pending, self.since = 0, None


_once = {"active": False, "listening": False}


@contextmanager
def new_datasets_indexed_once():
    """Inside the block, a dataset created and committed is indexed once (see the module docstring)."""
    if not _once["listening"]:
        # insert=True: before CKAN's own before_commit listener, which notifies the observers
        sa.event.listen(model.Session, "before_commit", _drop_redundant_reindex, insert=True)
        _once["listening"] = True
    previous, _once["active"] = _once["active"], True
    try:
        yield
    finally:
        _once["active"] = previous


def _drop_redundant_reindex(session) -> None:
    if not _once["active"] or not _search_is_sole_observer():
        return
    session.flush()  # CKAN's listener flushes first too: what it flushed would escape the filter
    cache = getattr(session, "_object_cache", None)
    if cache is None:
        return
    new_ids = {obj.id for obj in cache["new"] if isinstance(obj, model.Package)}
    if not new_ids:
        return
    for kind in ("new", "changed"):
        cache[kind].difference_update([obj for obj in cache[kind] if _only_relates_to(obj, new_ids)])


def _only_relates_to(obj, package_ids) -> bool:
    if isinstance(obj, model.Member):  # its related_packages() asks the database for what it holds
        return obj.table_name == "package" and obj.table_id in package_ids
    if isinstance(obj, model.Package) or not hasattr(obj, "related_packages"):
        return False
    related = obj.related_packages()
    return bool(related) and all(package.id in package_ids for package in related)


def _search_is_sole_observer() -> bool:
    observers = list(plugins.PluginImplementations(plugins.IDomainObjectModification))
    return (len(observers) == 1 and isinstance(observers[0], search.SynchronousSearchPlugin)
            and not list(plugins.PluginImplementations(plugins.IResourceUrlChange)))
