"""Template helpers of the platform core (registered by the helpers blanket)."""
import ckan.plugins.toolkit as tk

from ckanext.suedwest import licenses


def suedwest_license_choices(field):
    """Scheming ``choices_helper``: the DCAT-AP.de licences with their German titles."""
    return licenses.choices()


def suedwest_license_requires_attribution(license_id):
    return licenses.requires_attribution(license_id)


def suedwest_map_config():
    """Base map settings for the platform's Leaflet maps: ``tile_url`` is empty when no tile server is configured."""
    return {"tile_url": tk.config["ckanext.suedwest.map_tile_url"],
            "attribution": tk.config["ckanext.suedwest.map_attribution"]}
