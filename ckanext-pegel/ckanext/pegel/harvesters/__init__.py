"""Harvesters of ckanext-pegel (each a plugin of its own, listed under ``ckan.plugins``)."""
from ckanext.pegel.harvesters.pegelonline import PegelonlineHarvester

__all__ = ["PegelonlineHarvester"]
