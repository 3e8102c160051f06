"""What the dcat_ap_de profile could not map when ckanext-dcat's RDF harvester imports a dataset.

The profile leaves values outside the schema out of the dataset (so that the rest can be imported) and
lists them; they are saved as notes (errors of the import stage) on the harvest object, where the harvest
job report shows them, while the object itself completes: the dataset was imported.

Imported datasets are someone else's metadata: a licence that requires attribution but comes without an
attribution text is imported and reported, not rejected (our own data stewards must give the text). The
dataset being imported is marked for the validator by its id, so the mark cannot leak to other datasets.
"""
from contextvars import ContextVar

import ckan.plugins.toolkit as tk
from ckanext.harvest.model import HarvestObjectError

from ckanext.suedwest.profiles import UNMAPPED_KEY

_importing = ContextVar("suedwest_harvest_import", default=None)


def start_import(dataset_dict, temp_dict):
    temp_dict[UNMAPPED_KEY] = dataset_dict.pop(UNMAPPED_KEY, [])
    _importing.set(dataset_dict.get("id"))


def end_import(harvest_object, temp_dict):
    _importing.set(None)
    for prop, value in temp_dict.get(UNMAPPED_KEY, []):
        message = tk._("Not imported (unknown to the schema): {property} {value}").format(property=prop, value=value[:200])
        HarvestObjectError(message=message, object=harvest_object, stage="Import").save()
    return []  # errors returned here would mark the imported dataset's object as failed


def is_being_imported(dataset_id) -> bool:
    return dataset_id is not None and _importing.get() == dataset_id
