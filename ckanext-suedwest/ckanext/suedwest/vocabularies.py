"""Code lists of the DCAT-AP.de schema, read from the scheming schema and presets (schemas/*.yaml) so that
the form, the validators and the RDF profile share one source."""
from __future__ import annotations

import re
from functools import lru_cache

from ckanext.scheming.helpers import scheming_field_choices, scheming_get_dataset_schema, scheming_get_preset

from ckanext.suedwest import licenses

DATASET_TYPE = "dataset"


def dataset_field(name: str, section: str = "dataset_fields") -> dict:
    """A field of the dataset schema, by name."""
    schema = scheming_get_dataset_schema(DATASET_TYPE)
    return next(field for field in schema[section] if field["field_name"] == name)


def field_choice_values(name: str) -> set[str]:
    """The values a choice field of the dataset schema accepts."""
    return {choice["value"] for choice in scheming_field_choices(dataset_field(name))}


def choice_values(preset: str) -> set[str]:
    return {choice["value"] for choice in scheming_get_preset(preset)["choices"]}


@lru_cache(maxsize=1)
def _file_types() -> tuple[dict, dict]:
    choices = scheming_get_preset("dcatde_file_type")["choices"]
    by_code = {choice["value"].upper(): choice["uri"] for choice in choices}
    by_uri = {choice["uri"]: choice["value"] for choice in choices}
    return by_code, by_uri


def file_type_uri(code: str | None) -> str | None:
    """The EU file-type URI of a CKAN format code such as "CSV"."""
    return _file_types()[0].get((code or "").upper())


def file_type_code(value: str) -> str | None:
    """The CKAN format code for an EU file-type URI (or a code given as a literal)."""
    by_code, by_uri = _file_types()
    if value in by_uri:
        return by_uri[value]
    code = value.rsplit("/", 1)[-1].upper()
    return next((by_uri[uri] for c, uri in by_code.items() if c == code), None)


def license_ids() -> set[str]:
    return set(licenses.register().keys())


def tel_uri(phone: str) -> str:
    """A tel: URI (RFC 3966) from a phone number as people write it."""
    return "tel:" + re.sub(r"[^0-9+]", "", phone)
