"""Template helpers of the platform core (registered by the helpers blanket)."""
from ckanext.suedwest import licenses


def suedwest_license_choices(field):
    """Scheming ``choices_helper``: the DCAT-AP.de licences with their German titles."""
    return licenses.choices()


def suedwest_license_requires_attribution(license_id):
    return licenses.requires_attribution(license_id)
