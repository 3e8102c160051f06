"""Reading DCAT responses in tests."""
from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS, RDF


def graph_of(response, rdf_format="turtle"):
    """The RDF graph of a successful response."""
    assert response.status_code == 200, response.body[:500]
    return Graph().parse(data=response.get_data(as_text=True), format=rdf_format)


def identifiers(graph):
    """The dct:identifier of every dcat:Dataset in the graph."""
    return {str(graph.value(dataset, DCTERMS.identifier)) for dataset in graph.subjects(RDF.type, DCAT.Dataset)}
