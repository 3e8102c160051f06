"""Offline SHACL validation of the platform's DCAT-AP.de output with pyshacl (test helper).

The official shapes and code lists are not part of the repository: they live in the folder named by
``ckanext.suedwest.reference_dir`` (see README, "Reference files"), subfolder ``dcat-ap-de/``. Two shape sets:

* the DCAT-AP.de 3.0 profile: EU ``dcat-ap-eu-3.0.0/dcat-ap-SHACL.ttl`` plus the five files of ``dcat-ap-de-3.0/``;
* GovData's conventions (Konventionen): ``dcat-ap-de-2.0/*konventionen*.ttl`` on top of the other DCAT-AP.de 2.0
  files of that folder, as GovData's validator combines them.

The ``*-imports.ttl`` files only name remote code lists (``owl:imports``); nothing is fetched. Instead the local
ontology mirrors (``mirror/``: class hierarchy for ``sh:class``) and code lists (``vocab/``), and our own small
code-list file ``data/codelists.ttl`` for the lists that are not stored there, are merged into the data graph
before validating: the shapes check membership with ``skos:inScheme`` on the value node, so those triples have
to be in the graph that is validated.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

REFERENCE_DIR_OPTION = "ckanext.suedwest.reference_dir"
CODELISTS_FILE = Path(__file__).with_name("data") / "codelists.ttl"

PROFILE_FILES = (
    "dcat-ap-eu-3.0.0/dcat-ap-SHACL.ttl",
    "dcat-ap-de-3.0/dcat-ap-SHACL-DE.ttl",
    "dcat-ap-de-3.0/dcat-ap-spec-german-additions.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-controlledvocabularies.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-deprecated.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-imports.ttl",
)
CONVENTIONS_FOLDER = "dcat-ap-de-2.0"
VOCABULARY_FOLDERS = ("mirror", "vocab")


class ReferenceFilesMissing(RuntimeError):
    pass


def reference_dir(configured: str | None, root: Path) -> Path:
    """The ``dcat-ap-de`` folder of the reference files; a relative setting is taken from ``root``."""
    if not configured:
        raise ReferenceFilesMissing(f"{REFERENCE_DIR_OPTION} is not set: point it to the folder of the reference "
                                    f"files (README, 'Reference files')")
    base = Path(configured)
    if not base.is_absolute():
        base = root / base
    folder = base.resolve() / "dcat-ap-de"
    if not folder.is_dir():
        raise ReferenceFilesMissing(
            f"DCAT-AP.de reference files not found: {folder} does not exist ({REFERENCE_DIR_OPTION} = "
            f"{configured!r}, relative paths taken from {root}). Set {REFERENCE_DIR_OPTION} to a folder holding "
            f"the official shapes and code lists in a 'dcat-ap-de/' subfolder (README, 'Reference files').")
    return folder


def _rdf_format(path: Path) -> str:
    return {".ttl": "turtle", ".rdf": "xml", ".owl": "xml", ".nt": "nt"}[path.suffix]


def load_graph(paths) -> Graph:
    graph = Graph()
    for path in paths:
        if not path.is_file():
            raise ReferenceFilesMissing(f"reference file missing: {path}")
        graph.parse(path, format=_rdf_format(path))
    return graph


@dataclass
class Loaded:
    """A graph read from files, with the files and the time reading them took."""
    name: str
    graph: Graph = field(repr=False)
    files: list[Path] = field(repr=False)
    seconds: float


def _timed(name: str, paths: list[Path]) -> Loaded:
    start = time.perf_counter()
    graph = load_graph(paths)
    return Loaded(name, graph, paths, time.perf_counter() - start)


def load_profile_shapes(folder: Path) -> Loaded:
    return _timed("DCAT-AP.de 3.0", [folder / name for name in PROFILE_FILES])


def load_conventions_shapes(folder: Path) -> Loaded:
    base = folder / CONVENTIONS_FOLDER
    conventions = sorted(base.glob("*konventionen*.ttl"))
    if not conventions:
        raise ReferenceFilesMissing(f"no *konventionen*.ttl in {base}")
    others = sorted(path for path in base.glob("*.ttl") if path not in conventions)
    return _timed("GovData Konventionen (DCAT-AP.de 2.0)", [*others, *conventions])


def load_vocabularies(folder: Path) -> Loaded:
    paths = [path for name in VOCABULARY_FOLDERS for path in sorted((folder / name).iterdir())
             if path.suffix in (".ttl", ".rdf")]
    return _timed("ontology mirrors and code lists", [*paths, CODELISTS_FILE])


@dataclass
class Result:
    severity: str  # "Violation", "Warning", "Info"
    focus: str
    path: str
    value: str
    message: str
    shape: str  # the source shape's IRI ("_:blank" for a nested anonymous shape)

    def __str__(self):
        value = f" value={self.value[:80]!r}" if self.value else ""
        shape = _text(URIRef(self.shape)) if self.shape != "_:blank" else self.shape
        return f"[{self.severity}] {self.message} (focus={self.focus[:100]} path={self.path}{value} shape={shape})"


@dataclass
class Report:
    shapes: str
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def of(self, severity: str) -> list[Result]:
        return [result for result in self.results if result.severity == severity]

    @property
    def violations(self) -> list[Result]:
        return self.of("Violation")

    @property
    def warnings(self) -> list[Result]:
        return self.of("Warning")

    def explain(self, severity: str = "Violation") -> str:
        results = self.of(severity)
        lines = [f"{len(results)} {severity}(s) against {self.shapes}:"]
        lines += [f"  {result}" for result in results]
        return "\n".join(lines)


# Fixed prefixes for paths and shapes in reports (the shape files bind dcterms: and dct: differently).
PREFIXES = Graph(bind_namespaces="none")
for _prefix, _namespace in {
    "dct": "http://purl.org/dc/terms/", "dcat": "http://www.w3.org/ns/dcat#", "dcatde": "http://dcat-ap.de/def/dcatde/",
    "dcatap": "http://data.europa.eu/r5r#", "foaf": "http://xmlns.com/foaf/0.1/", "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#", "locn": "http://www.w3.org/ns/locn#", "adms": "http://www.w3.org/ns/adms#",
    "rdf": str(RDF), "sh": str(SH), "de3": "http://dcat-ap.de/def/dcatde/3.0/shacl/",
    "eu3": "https://semiceu.github.io/DCAT-AP/releases/3.0.0/shacl/dcat-ap-SHACL.ttl#",
}.items():
    PREFIXES.bind(_prefix, _namespace)


def _iri(node) -> str:
    return str(node) if isinstance(node, URIRef) else "_:blank"


def _text(node) -> str:
    if node is None:
        return ""
    if isinstance(node, Literal):
        return str(node)
    if isinstance(node, URIRef):
        return PREFIXES.namespace_manager.normalizeUri(node)
    # a blank node (e.g. an sh:alternativePath list or a nested property shape)
    return "_:blank"


def validate(document: Graph, shapes: Loaded, vocabularies: Loaded) -> Report:
    """Validate ``document`` (left unchanged) against ``shapes`` with the code lists merged in.

    ``Report.seconds`` covers merging and validating."""
    start = time.perf_counter()
    data = Graph()
    for graph in (vocabularies.graph, document):
        for triple in graph:
            data.add(triple)
    _conforms, results_graph, _text_report = pyshacl.validate(
        data, shacl_graph=shapes.graph, inference="none", do_owl_imports=False, inplace=True,
        allow_warnings=False, allow_infos=False)
    seconds = time.perf_counter() - start
    report = Report(shapes.name, seconds=seconds)
    for node in results_graph.subjects(RDF.type, SH.ValidationResult):
        severity = results_graph.value(node, SH.resultSeverity)
        messages = [str(m) for m in results_graph.objects(node, SH.resultMessage)]
        german = [m for m in results_graph.objects(node, SH.resultMessage) if getattr(m, "language", None) == "de"]
        report.results.append(Result(
            severity=str(severity).rsplit("#", 1)[-1],
            focus=str(results_graph.value(node, SH.focusNode)),
            path=_text(results_graph.value(node, SH.resultPath)),
            value=_text(results_graph.value(node, SH.value)),
            message=str(german[0]) if german else (messages[0] if messages else ""),
            shape=_iri(results_graph.value(node, SH.sourceShape)),
        ))
    report.results.sort(key=lambda r: (r.severity, r.message, r.focus))
    return report
