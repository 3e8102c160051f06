"""One Solr commit per batch of harvested datasets instead of one per dataset.

With ``ckan.search.solr_commit = true`` (the platform's setting) CKAN commits the Solr index after every
dataset it indexes; a commit costs a quarter of a second and more on a busy core, several times the rest of
creating a station's dataset. While the harvester writes a dataset, the setting is switched off, and the
index is committed when the job has no object left to import, or after ``MAX_PENDING`` datasets or
``MAX_SECONDS`` seconds, whichever comes first (the datasets become searchable then).

Harvest imports run in the single-threaded fetch consumer (or ``ckan harvester import``), so switching a
process-wide setting for the duration of one action is safe there.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager

import ckan.lib.search as search
import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)

SETTING = "ckan.search.solr_commit"
MAX_PENDING = 200
MAX_SECONDS = 10.0


class DeferredCommits:
    def __init__(self):
        self.pending = 0
        self.since = None

    @contextmanager
    def deferred(self):
        """Index without committing inside the block (if the site commits at all)."""
        if not tk.config.get(SETTING):
            yield
            return
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
            self.pending, self.since = 0, None
