"""Fixtures shared by the bundle's tests (listed in the root conftest.py)."""
import subprocess
import sys
from pathlib import Path

import pytest

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk

STACK_TEST_HARVESTER = "suedwest_test_harvester"


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
