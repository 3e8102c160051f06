"""The ``dcat_ap_de`` RDF profile: DCAT-AP.de 3.0 as GovData harvests it.

It subclasses ckanext-dcat's DCAT-AP 3 profile and adds the German layer on top of each step, so the
platform configures one profile (``ckanext.dcat.rdf.profiles = dcat_ap_de``) and DCAT-AP 3 runs once:

* dcatde:contributorID (the dataset's, else ``ckanext.suedwest.default_contributor_id``),
  dcatde:politicalGeocodingLevelURI and dcatde:politicalGeocodingURI, the latter
  also as dct:spatial (GovData's conventions still read it; 3.0 deprecates it in favour of dct:spatial);
* a publisher with its ADMS publisher type on every dataset (the organisation when none is given);
* vcard:hasTelephone on contact points;
* dcatde:licenseAttributionByText and the dcat-ap.de licence on every distribution, file types as EU
  file-type URIs;
* dct:publisher and dct:description on the catalog.

Parsing reverses each of these. Values outside the schema's code lists are left out of the dataset and
listed under ``UNMAPPED_KEY``, which the RDF harvester reports on the harvest object.

Serialising also corrects what the DCAT-AP 3 profile writes where the DCAT-AP.de shapes (the 3.0 profile, and
GovData's conventions on 2.0; tests/test_shacl.py validates against both) reject it:

* dcat:mediaType as an IANA media-type IRI (https://www.iana.org/assignments/media-types/text/csv), not a literal;
* dcat:accessURL on every distribution (the base profile leaves it out when it equals the download URL);
* the catalog's dct:language as an EU language IRI instead of the locale literal (``de``).

Areas are written as dcat:bbox and dcat:centroid only: the two shape sets contradict each other on
locn:geometry (3.0 wants a node, GovData's conventions a literal), see ckanext.suedwest.geometry.
"""
from __future__ import annotations

import re
from collections import Counter

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import Namespace

import ckan.plugins.toolkit as tk
from ckanext.dcat.profiles import ADMS, DCAT, DCT, FOAF, LOCN, OWL, RDF, RDFS, SKOS, SPDX, VCARD
from ckanext.dcat.profiles.base import CleanedURIRef
from ckanext.dcat.profiles.euro_dcat_ap_3 import EuropeanDCATAP3Profile
from ckanext.dcat.utils import resource_uri

from ckanext.suedwest import geometry, licenses, vocabularies

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
UNMAPPED_KEY = "_suedwest_unmapped"

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
# CKAN locales (ckan.locale_default) of the cluster's languages -> EU language authority codes
LOCALE_LANGUAGES = {"de": "DEU", "en": "ENG", "fr": "FRA", "lb": "LTZ", "nl": "NLD"}

# What the schema keeps of a dataset and a distribution; parsing reports any other property.
DATASET_PREDICATES = {
    RDF.type, DCT.title, DCT.description, DCAT.keyword, DCAT.theme, DCT.identifier, DCT.issued, DCT.modified,
    DCT.publisher, DCAT.contactPoint, DCT.language, DCT.accrualPeriodicity, DCT.spatial, DCT.temporal,
    DCAT.landingPage, FOAF.page, DCT.conformsTo, OWL.versionInfo, DCAT.version, DCAT.distribution,
    DCATDE.contributorID, DCATDE.politicalGeocodingLevelURI, DCATDE.politicalGeocodingURI,
}
# ckanext-dcat keeps these distribution properties as resource fields (size, hash, language, ...).
DISTRIBUTION_PREDICATES = {
    RDF.type, DCAT.accessURL, DCAT.downloadURL, DCT.title, DCT.description, DCT["format"], DCAT.mediaType,
    DCT.license, DCATDE.licenseAttributionByText, DCT.issued, DCT.modified, DCAT.byteSize, SPDX.checksum,
    DCT.language, DCAT.compressFormat, DCAT.packageFormat, DCT.rights, ADMS.status, FOAF.page, DCT.conformsTo,
}
CHOICE_PREDICATES = {
    "theme": DCAT.theme, "language": DCT.language, "frequency": DCT.accrualPeriodicity,
    "political_geocoding_level_uri": DCATDE.politicalGeocodingLevelURI,
}


def _most_common(values):
    """The most frequent value; ties go to the alphabetically first, so that parsing is repeatable."""
    counts = Counter(value for value in values if value)
    return min(counts, key=lambda value: (-counts[value], value)) if counts else None


class DCATAPdeProfile(EuropeanDCATAP3Profile):
    """DCAT-AP.de 3.0 (with GovData's conventions) on top of ckanext-dcat's DCAT-AP 3 profile."""

    # Serialising ----------------------------------------------------------------------------------

    def graph_from_dataset(self, dataset_dict, dataset_ref):
        super().graph_from_dataset(dataset_dict, dataset_ref)
        self.g.bind("dcatde", DCATDE)
        self._graph_from_dataset_de(dataset_dict, dataset_ref)

    def graph_from_catalog(self, catalog_dict, catalog_ref):
        super().graph_from_catalog(catalog_dict, catalog_ref)
        self.g.bind("dcatde", DCATDE)
        self._catalog_languages_as_iris(catalog_ref)
        if not self.g.value(catalog_ref, DCT.description):
            description = tk.config.get("ckan.site_description") or tk.config.get("ckanext.suedwest.catalog_description")
            self.g.add((catalog_ref, DCT.description, Literal(description)))
        if not self.g.value(catalog_ref, DCT.publisher):
            publisher = self._agent((catalog_dict or {}).get("publisher_name")
                                    or tk.config.get("ckanext.suedwest.catalog_publisher"))
            self.g.add((catalog_ref, DCT.publisher, publisher))

    def _graph_from_dataset_de(self, dataset_dict, dataset_ref):
        g = self.g
        contributor = dataset_dict.get("contributor_id") or tk.config.get("ckanext.suedwest.default_contributor_id")
        if contributor:
            g.add((dataset_ref, DCATDE.contributorID, URIRef(contributor)))
        if dataset_dict.get("political_geocoding_level_uri"):
            g.add((dataset_ref, DCATDE.politicalGeocodingLevelURI,
                   URIRef(dataset_dict["political_geocoding_level_uri"])))
        for uri in self._read_list_value(dataset_dict.get("political_geocoding_uri")):
            g.add((dataset_ref, DCATDE.politicalGeocodingURI, URIRef(uri)))
            g.add((dataset_ref, DCT.spatial, URIRef(uri)))
            g.add((URIRef(uri), RDF.type, DCT.Location))
        self._ensure_publisher(dataset_dict, dataset_ref)
        for resource in dataset_dict.get("resources", []):
            self._graph_from_distribution_de(dataset_dict, resource)

    def _ensure_publisher(self, dataset_dict, dataset_ref):
        """DCAT-AP.de requires a publisher with a type: fall back to the organisation, then to the default type."""
        publishers = list(self.g.objects(dataset_ref, DCT.publisher))
        if not publishers:
            organization = dataset_dict.get("organization") or {}
            publishers = [self._agent(organization.get("title") or organization.get("name"))]
            self.g.add((dataset_ref, DCT.publisher, publishers[0]))
        for publisher in publishers:
            if not self.g.value(publisher, DCT.type):
                self.g.add((publisher, DCT.type, URIRef(tk.config.get("ckanext.suedwest.default_publisher_type"))))

    def _agent(self, name):
        agent = BNode()
        self.g.add((agent, RDF.type, FOAF.Agent))
        self.g.add((agent, FOAF.name, Literal(name)))
        self.g.add((agent, DCT.type, URIRef(tk.config.get("ckanext.suedwest.default_publisher_type"))))
        return agent

    def _graph_from_distribution_de(self, dataset_dict, resource):
        distribution = CleanedURIRef(resource_uri(resource))
        own_license = resource.get("license")
        attribution = resource.get("license_attribution_by_text") or (
            None if own_license else dataset_dict.get("license_attribution_by_text"))
        if attribution:
            self.g.add((distribution, DCATDE.licenseAttributionByText, Literal(attribution)))
        file_type = vocabularies.file_type_uri(resource.get("format"))
        if file_type:
            self.g.remove((distribution, DCT["format"], None))
            self.g.add((distribution, DCT["format"], URIRef(file_type)))
        # dcat:accessURL is mandatory; the base profile leaves it out when the URL equals the download URL
        if self.g.value(distribution, DCAT.accessURL) is None and resource.get("url"):
            self.g.add((distribution, DCAT.accessURL, CleanedURIRef(resource["url"])))
        self._media_type_as_iana_iri(distribution)

    def _media_type_as_iana_iri(self, distribution):
        """The base profile writes the resource's mimetype as a literal ("text/csv"); DCAT-AP 3 wants a node
        and DCAT-AP.de an IRI of the IANA register. Values that are no media type are left out."""
        for value in list(self.g.objects(distribution, DCAT.mediaType)):
            if isinstance(value, URIRef) and str(value).startswith(("https://www.iana.org/", "http://www.iana.org/")):
                continue
            self.g.remove((distribution, DCAT.mediaType, value))
            if isinstance(value, URIRef) and (None, None, value) not in self.g:
                self.g.remove((value, RDF.type, DCT.MediaType))
            media_type = str(value).split(";", 1)[0].strip().lower()
            if MEDIA_TYPE.match(media_type):
                iri = URIRef(IANA_MEDIA_TYPES + media_type)
                self.g.add((distribution, DCAT.mediaType, iri))
                self.g.add((iri, RDF.type, DCT.MediaType))

    def _catalog_languages_as_iris(self, catalog_ref):
        """The base profile writes ckan.locale_default ("de") as a literal; DCAT-AP.de wants the EU language IRI."""
        for value in list(self.g.objects(catalog_ref, DCT.language)):
            if isinstance(value, Literal):
                self.g.remove((catalog_ref, DCT.language, value))
                code = LOCALE_LANGUAGES.get(str(value).replace("-", "_").split("_")[0].lower())
                if code:
                    iri = URIRef(EU_LANGUAGE + code)
                    self.g.add((catalog_ref, DCT.language, iri))
                    self.g.add((iri, RDF.type, DCT.LinguisticSystem))

    def _add_contact_to_graph(self, subject, predicate, contact):
        known = set(self.g.objects(subject, predicate))
        super()._add_contact_to_graph(subject, predicate, contact)
        if contact.get("phone"):
            for node in set(self.g.objects(subject, predicate)) - known:
                self.g.add((node, VCARD.hasTelephone, URIRef(vocabularies.tel_uri(contact["phone"]))))

    # Parsing --------------------------------------------------------------------------------------

    def parse_dataset(self, dataset_dict, dataset_ref):
        dataset_dict = super().parse_dataset(dataset_dict, dataset_ref)
        return self._parse_dataset_de(dataset_dict, dataset_ref)

    def _parse_dataset_de(self, dataset_dict, dataset_ref):
        unmapped = []

        contributors = self._object_value_list(dataset_ref, DCATDE.contributorID)
        if contributors:
            dataset_dict["contributor_id"] = sorted(contributors)[0]
            unmapped += [(DCATDE.contributorID, extra) for extra in sorted(contributors)[1:]]
        level = self._object_value(dataset_ref, DCATDE.politicalGeocodingLevelURI)
        if level:
            self._keep_choice(dataset_dict, "political_geocoding_level_uri", [level], unmapped, single=True)
        geocoding = sorted(self._object_value_list(dataset_ref, DCATDE.politicalGeocodingURI))
        if geocoding:
            dataset_dict["political_geocoding_uri"] = geocoding
        dataset_dict["spatial_coverage"] = self._spatial_coverage(dataset_ref, set(geocoding), unmapped)

        for field in ("theme", "language"):
            if dataset_dict.get(field):
                self._keep_choice(dataset_dict, field, self._read_list_value(dataset_dict[field]), unmapped)
        if dataset_dict.get("frequency"):
            self._keep_choice(dataset_dict, "frequency", [dataset_dict["frequency"]], unmapped, single=True)
        for publisher in dataset_dict.get("publisher") or []:
            if publisher.get("type") and publisher["type"] not in vocabularies.choice_values("dcatde_publisher_type"):
                unmapped.append((DCT.type, publisher.pop("type")))

        self._parse_contact_phones(dataset_dict, dataset_ref)
        self._parse_distributions_de(dataset_dict, dataset_ref, unmapped)
        self._unread_properties(dataset_ref, DATASET_PREDICATES, unmapped)
        for distribution in self._distributions(dataset_ref):
            self._unread_properties(distribution, DISTRIBUTION_PREDICATES, unmapped)
        if unmapped:
            dataset_dict[UNMAPPED_KEY] = [(self.g.namespace_manager.normalizeUri(predicate), str(value))
                                          for predicate, value in unmapped]
        return dataset_dict

    def _unread_properties(self, subject, known, unmapped):
        """Properties the schema has no field for (e.g. dcatde:legalBasis): listed, not silently lost."""
        for predicate, value in self.g.predicate_objects(subject):
            if predicate not in known:
                unmapped.append((predicate, value))

    def _spatial_coverage(self, dataset_ref, geocoding, unmapped):
        """Every dct:spatial as a spatial_coverage item (ckanext-dcat keeps only one); the political
        geocoding URIs, which dct:spatial repeats, are not areas of their own. A locn:geometry becomes
        bounding box and centroid (ckanext.suedwest.geometry); an outline that they do not describe
        exactly is reported."""
        coverage = []
        for node in self.g.objects(dataset_ref, DCT.spatial):
            item = {
                "uri": str(node) if isinstance(node, URIRef) else "",
                "text": self._object_value(node, SKOS.prefLabel) or self._object_value(node, RDFS.label),
                "geom": self._parse_geodata(node, LOCN.geometry, None),
                "bbox": self._parse_geodata(node, DCAT.bbox, None),
                "centroid": self._parse_geodata(node, DCAT.centroid, None),
            }
            if isinstance(node, Literal):
                item["text"] = str(node)
            if item["geom"]:
                geom = item.pop("geom")
                for field, value in geometry.bbox_and_centroid(geom).items():
                    item[field] = item[field] or value
                if not geometry.is_exact(geom):
                    unmapped.append((LOCN.geometry, geom))
            item = {key: value for key, value in item.items() if value}
            if item and not (set(item) == {"uri"} and item["uri"] in geocoding):
                coverage.append(item)
        return coverage

    def _keep_choice(self, dataset_dict, field, values, unmapped, single=False):
        """Keep the values the schema's code list knows; record the others."""
        known = vocabularies.field_choice_values(field)
        kept = [value for value in values if value in known]
        unmapped += [(CHOICE_PREDICATES[field], value) for value in values if value not in known]
        if single:
            dataset_dict[field] = kept[0] if kept else ""
        else:
            dataset_dict[field] = kept

    def _parse_contact_phones(self, dataset_dict, dataset_ref):
        contacts = dataset_dict.get("contact") or []
        for contact, node in zip(contacts, self.g.objects(dataset_ref, DCAT.contactPoint)):
            phone = self._get_vcard_property_value(node, VCARD.hasTelephone)
            if phone:
                contact["phone"] = phone.removeprefix("tel:")

    def _parse_distributions_de(self, dataset_dict, dataset_ref, unmapped):
        """Licences, attribution texts and file types of the distributions."""
        resources = dataset_dict.get("resources") or []
        nodes = {str(node): node for node in self._distributions(dataset_ref)}
        for resource in resources:
            if resource.get("mimetype", "").startswith(IANA_MEDIA_TYPES):
                resource["mimetype"] = resource["mimetype"][len(IANA_MEDIA_TYPES):]
            if resource.get("access_url") == resource.get("url"):
                resource.pop("access_url")  # written because DCAT-AP.de requires it, not a field of its own
            node = nodes.get(resource.get("distribution_ref"))
            if node is not None:
                text = self._object_value(node, DCATDE.licenseAttributionByText)
                if text:
                    resource["license_attribution_by_text"] = text
                file_type = self._object_value(node, DCT["format"])
                code = vocabularies.file_type_code(file_type) if file_type else None
                if code:
                    resource["format"] = code
                elif file_type:
                    unmapped.append((DCT["format"], file_type))
                    resource["format"] = ""
            license_uri = resource.get("license")
            if license_uri and license_uri not in vocabularies.license_ids():
                unmapped.append((DCT.license, license_uri))
                resource.pop("license")

        # The dataset takes the licence (and attribution text) most distributions have; distributions
        # that differ keep their own, as the schema allows.
        dataset_dict["license_id"] = _most_common(resource.get("license") for resource in resources) or ""
        dataset_dict["license_attribution_by_text"] = _most_common(
            resource.get("license_attribution_by_text") for resource in resources) or ""
        if licenses.requires_attribution(dataset_dict["license_id"]) and not dataset_dict["license_attribution_by_text"]:
            unmapped.append((DCATDE.licenseAttributionByText, "missing, but required by " + dataset_dict["license_id"]))
        for resource in resources:
            if dataset_dict.get("license_id") and resource.get("license") == dataset_dict["license_id"]:
                resource.pop("license")
            if dataset_dict.get("license_attribution_by_text") and (
                    resource.get("license_attribution_by_text") == dataset_dict["license_attribution_by_text"]):
                resource.pop("license_attribution_by_text")
