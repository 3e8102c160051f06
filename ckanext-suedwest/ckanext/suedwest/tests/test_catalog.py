"""The DCAT catalog endpoint of ckanext-dcat serves what is in the database."""
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from ckan.tests import factories

from ckanext.suedwest.tests import factories as dcatde


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_catalog_ttl_lists_public_datasets_only(app):
    org = factories.Organization()
    public = dcatde.Dataset(owner_org=org["id"], title="Pegelstände der Mosel", notes="Messwerte")
    private = dcatde.Dataset(owner_org=org["id"], title="Interne Liste", notes="Intern", private=True)

    response = app.get("/catalog.ttl")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    titles = {str(graph.value(dataset, DCTERMS.title)) for dataset in datasets}
    assert titles == {"Pegelstände der Mosel"}
    assert (None, DCTERMS.identifier, Literal(public["id"])) in graph
    assert (None, DCTERMS.identifier, Literal(private["id"])) not in graph
    assert any(isinstance(dataset, URIRef) for dataset in datasets)
