"""The ``dcat_ap_de`` RDF profile: DCAT-AP.de 3.0 as GovData harvests it.

It subclasses ckanext-dcat's DCAT-AP 3 profile and adds the German layer on top of each step, so the
platform configures one profile (``ckanext.dcat.rdf.profiles = dcat_ap_de``) and DCAT-AP 3 runs once:

* dcatde:contributorID, dcatde:politicalGeocodingLevelURI and dcatde:politicalGeocodingURI, the latter
  also as dct:spatial (GovData's conventions still read it; 3.0 deprecates it in favour of dct:spatial);
* a publisher with its ADMS publisher type on every dataset (the organisation when none is given);
* vcard:hasTelephone on contact points;
* dcatde:licenseAttributionByText and the dcat-ap.de licence on every distribution, file types as EU
  file-type URIs;
* dct:publisher and dct:description on the catalog.

Parsing reverses each of these. Values outside the schema's code lists are left out of the dataset and
listed under ``UNMAPPED_KEY``, which the RDF harvester reports on the harvest object.
"""
from __future__ import annotations

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import Namespace

import ckan.plugins.toolkit as tk
from ckanext.dcat.profiles import DCAT, DCT, FOAF, LOCN, RDF, RDFS, SKOS, VCARD
from ckanext.dcat.profiles.base import CleanedURIRef
from ckanext.dcat.profiles.euro_dcat_ap_3 import EuropeanDCATAP3Profile
from ckanext.dcat.utils import resource_uri

from ckanext.suedwest import vocabularies

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
UNMAPPED_KEY = "_suedwest_unmapped"


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
        if not self.g.value(catalog_ref, DCT.description):
            description = tk.config.get("ckan.site_description") or tk.config.get("ckanext.suedwest.catalog_description")
            self.g.add((catalog_ref, DCT.description, Literal(description)))
        if not self.g.value(catalog_ref, DCT.publisher):
            publisher = self._agent(tk.config.get("ckanext.suedwest.catalog_publisher"))
            self.g.add((catalog_ref, DCT.publisher, publisher))

    def _graph_from_dataset_de(self, dataset_dict, dataset_ref):
        g = self.g
        if dataset_dict.get("contributor_id"):
            g.add((dataset_ref, DCATDE.contributorID, URIRef(dataset_dict["contributor_id"])))
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
            unmapped += [("dcatde:contributorID", extra) for extra in sorted(contributors)[1:]]
        level = self._object_value(dataset_ref, DCATDE.politicalGeocodingLevelURI)
        if level:
            self._keep_choice(dataset_dict, "political_geocoding_level_uri", [level], unmapped, single=True)
        geocoding = sorted(self._object_value_list(dataset_ref, DCATDE.politicalGeocodingURI))
        if geocoding:
            dataset_dict["political_geocoding_uri"] = geocoding
        dataset_dict["spatial_coverage"] = self._spatial_coverage(dataset_ref, set(geocoding))

        for field in ("theme", "language"):
            if dataset_dict.get(field):
                self._keep_choice(dataset_dict, field, self._read_list_value(dataset_dict[field]), unmapped)
        if dataset_dict.get("frequency"):
            self._keep_choice(dataset_dict, "frequency", [dataset_dict["frequency"]], unmapped, single=True)
        for publisher in dataset_dict.get("publisher") or []:
            if publisher.get("type") and publisher["type"] not in vocabularies.choice_values("dcatde_publisher_type"):
                unmapped.append(("dct:publisher/dct:type", publisher.pop("type")))

        self._parse_contact_phones(dataset_dict, dataset_ref)
        self._parse_distributions_de(dataset_dict, dataset_ref, unmapped)
        if unmapped:
            dataset_dict[UNMAPPED_KEY] = unmapped
        return dataset_dict

    def _spatial_coverage(self, dataset_ref, geocoding):
        """Every dct:spatial as a spatial_coverage item (ckanext-dcat keeps only one); the political
        geocoding URIs, which dct:spatial repeats, are not areas of their own."""
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
            item = {key: value for key, value in item.items() if value}
            if item and not (set(item) == {"uri"} and item["uri"] in geocoding):
                coverage.append(item)
        return coverage

    def _keep_choice(self, dataset_dict, field, values, unmapped, single=False):
        """Keep the values the schema's code list knows; record the others."""
        known = vocabularies.field_choice_values(field)
        kept = [value for value in values if value in known]
        unmapped += [(field, value) for value in values if value not in known]
        if single:
            dataset_dict[field] = kept[0] if kept else ""
        else:
            dataset_dict[field] = kept

    def _parse_contact_phones(self, dataset_dict, dataset_ref):
        contacts = dataset_dict.get("contact") or []
        for contact, node in zip(contacts, self.g.objects(dataset_ref, DCAT.contactPoint)):
            phone = self._object_value(node, VCARD.hasTelephone)
            if phone:
                contact["phone"] = phone.removeprefix("tel:")

    def _parse_distributions_de(self, dataset_dict, dataset_ref, unmapped):
        """Licences, attribution texts and file types; what all distributions share moves up to the dataset."""
        resources = dataset_dict.get("resources") or []
        nodes = {str(node): node for node in self._distributions(dataset_ref)}
        for resource in resources:
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
                    unmapped.append(("dct:format", file_type))
                    resource["format"] = ""
            license_uri = resource.get("license")
            if license_uri and license_uri not in vocabularies.license_ids():
                unmapped.append(("dct:license", license_uri))
                resource.pop("license")

        licences = {resource.get("license") for resource in resources}
        if len(licences) == 1 and None not in licences:
            dataset_dict["license_id"] = licences.pop()
        if dataset_dict.get("license_id") not in vocabularies.license_ids():
            dataset_dict["license_id"] = ""
        texts = {resource.get("license_attribution_by_text") for resource in resources}
        if len(texts) == 1 and None not in texts:
            dataset_dict["license_attribution_by_text"] = texts.pop()
        for resource in resources:
            if dataset_dict.get("license_id") and resource.get("license") == dataset_dict["license_id"]:
                resource.pop("license")
            if dataset_dict.get("license_attribution_by_text") and (
                    resource.get("license_attribution_by_text") == dataset_dict["license_attribution_by_text"]):
                resource.pop("license_attribution_by_text")
