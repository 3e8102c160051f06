"""Fixtures shared by the bundle's tests (listed in the root conftest.py)."""
import functools
import http.server
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk

STACK_TEST_HARVESTER = "suedwest_test_harvester"


def wait_until(condition, timeout=90):
    """Poll ``condition`` until it is true (True) or ``timeout`` seconds pass (False), each time with a fresh
    database session, so that what other processes (harvest consumers, workers) committed is seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model.Session.remove()
        if condition():
            return True
        time.sleep(0.5)
    return False


@pytest.fixture
def ckan_ini_with(tmp_path):
    """Write a config that extends the test config with more plugins, for CKAN processes a test starts."""

    def write(*extra_plugins):
        test_ini = Path(tk.config["__file__"]).resolve()
        plugins = " ".join([*tk.config["ckan.plugins"], *extra_plugins])
        ini = tmp_path / "subprocess.ini"
        logging = test_ini.read_text().split("[loggers]", 1)[1]
        ini.write_text(f"[app:main]\nuse = config:{test_ini}\nckan.plugins = {plugins}\n\n[loggers]{logging}")
        return ini

    return write


@pytest.fixture
def ckan_process():
    """Start CKAN CLI commands (``ckan -c INI ...``) as real processes; stop them after the test."""
    processes = []

    def start(ini, *args, log):
        ckan = Path(sys.executable).with_name("ckan")
        process = subprocess.Popen([str(ckan), "-c", str(ini), *args], stdout=log.open("wb"),
                                   stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def stack_test_harvester():
    """Load the test-only harvester plugin (from the ckan.test_plugins entry points) for one test."""
    plugins.load(STACK_TEST_HARVESTER)
    yield STACK_TEST_HARVESTER
    plugins.unload(STACK_TEST_HARVESTER)


@pytest.fixture
def serve_directory():
    """Serve a folder over HTTP on a free loopback port (a feed or catalog for harvesters); yields a
    function that starts the server and returns its base URL."""
    servers = []

    def serve(directory):
        handler = functools.partial(QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {".ttl": "text/turtle", ".rdf": "application/rdf+xml", ".jsonld": "application/ld+json",
                      ".json": "application/json"}

    def log_message(self, format, *args):
        pass


# SHACL validation of the DCAT-AP.de output (tests/shacl.py). The shapes and code lists take seconds to
# parse, so each set is read once per test session. The helper imports pyshacl, so it is imported inside the
# fixtures, not when this plugin module loads for every test run.


@pytest.fixture(scope="session")
def dcat_ap_de_reference_dir(pytestconfig):
    """The ``dcat-ap-de`` folder under ``ckanext.suedwest.reference_dir``; a relative setting is taken from the
    repository root (where pytest runs from), like the default ``../shared/reference``."""
    from ckanext.suedwest.tests import shacl

    try:
        return shacl.reference_dir(tk.config.get(shacl.REFERENCE_DIR_OPTION), pytestconfig.rootpath)
    except shacl.ReferenceFilesMissing as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def dcat_ap_de_shapes(dcat_ap_de_reference_dir):
    """The DCAT-AP.de 3.0 profile shapes: EU DCAT-AP 3.0.0 plus the German files of dcat-ap-de-3.0/."""
    from ckanext.suedwest.tests import shacl

    return shacl.load_profile_shapes(dcat_ap_de_reference_dir)


@pytest.fixture(scope="session")
def govdata_conventions_shapes(dcat_ap_de_reference_dir):
    """GovData's conventions (Konventionen) on top of the DCAT-AP.de 2.0 shapes."""
    from ckanext.suedwest.tests import shacl

    return shacl.load_conventions_shapes(dcat_ap_de_reference_dir)


@pytest.fixture(scope="session")
def shacl_vocabularies(dcat_ap_de_reference_dir):
    """Ontology mirrors and code lists to merge into every data graph before validating."""
    from ckanext.suedwest.tests import shacl

    return shacl.load_vocabularies(dcat_ap_de_reference_dir)
