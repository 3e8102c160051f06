"""One municipality's own DCAT catalog (/kommune/<name>/catalog.*)."""
import pytest
from rdflib import Literal
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from ckan.tests import factories

from ckanext.suedwest.tests import factories as dcatde
from ckanext.suedwest.tests.rdf import graph_of, identifiers



@pytest.mark.usefixtures("clean_db", "clean_index")
class TestTenantCatalog:
    def test_lists_only_the_municipalitys_public_datasets(self, app):
        kusel = factories.Organization(name="landkreis-kusel", title="Landkreis Kusel")
        wendel = factories.Organization(name="landkreis-sankt-wendel", title="Landkreis Sankt Wendel")
        own = dcatde.Dataset(owner_org=kusel["id"])
        dcatde.Dataset(owner_org=kusel["id"], private=True)
        dcatde.Dataset(owner_org=wendel["id"])

        graph = graph_of(app.get("/kommune/landkreis-kusel/catalog.ttl"))

        assert identifiers(graph) == {own["id"]}
        catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
        assert graph.value(catalog, DCTERMS.title) == Literal("Landkreis Kusel")
        assert graph.value(graph.value(catalog, DCTERMS.publisher), FOAF.name) == Literal("Landkreis Kusel")

    def test_rdf_xml_too(self, app):
        kusel = factories.Organization(name="landkreis-kusel")
        own = dcatde.Dataset(owner_org=kusel["id"])

        response = app.get("/kommune/landkreis-kusel/catalog.rdf")

        assert response.headers["Content-Type"].startswith("application/rdf+xml")
        assert identifiers(graph_of(response, "xml")) == {own["id"]}

    def test_unknown_municipality_is_404(self, app):
        assert app.get("/kommune/atlantis/catalog.ttl").status_code == 404
