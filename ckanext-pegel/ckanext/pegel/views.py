"""Blueprints of ckanext-pegel (job H2 fills this in)."""
from flask import Blueprint

pegel = Blueprint("pegel", __name__)
