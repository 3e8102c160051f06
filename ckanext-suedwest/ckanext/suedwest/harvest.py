"""Reporting what the dcat_ap_de profile could not map when ckanext-dcat's RDF harvester imports a dataset.

The profile leaves values outside the schema's code lists out of the dataset (so that the rest can be
imported) and lists them; the harvester saves them as errors of the harvest object, where the harvest
source's page shows them."""
from ckanext.suedwest.profiles import UNMAPPED_KEY


def set_aside_unmapped(dataset_dict, temp_dict):
    temp_dict[UNMAPPED_KEY] = dataset_dict.pop(UNMAPPED_KEY, [])


def unmapped_messages(temp_dict):
    return [f"Unknown value for {field}, not imported: {value}" for field, value in temp_dict.get(UNMAPPED_KEY, [])]
