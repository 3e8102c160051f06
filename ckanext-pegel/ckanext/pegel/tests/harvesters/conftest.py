"""Fixtures of the harvester tests (defined in feed.py, which the poller tests use as well)."""
from ckanext.pegel.tests.harvesters.feed import feed, municipalities, pegelonline_fixtures  # noqa: F401
