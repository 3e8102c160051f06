"""`make setup` run again leaves the same state and loses nothing (runs on the development stack)."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
STATE = PROJECT / "var"
DEV_INI = STATE / "development.ini"
CKANAPI = Path(sys.executable).with_name("ckanapi")
GENERATED = [DEV_INI, STATE / "secrets.env",
             *sorted((STATE / "solr" / "home").glob("configsets/ckan/conf/*")),
             *sorted((STATE / "solr" / "home").glob("*/core.properties"))]
PROBE = {"org": "setup-probe-org", "dataset": "setup-probe-pegelstaende"}


def ckanapi(*args):
    # ckanapi runs the `ckan` command of the virtualenv for a local site
    env = {**os.environ, "PATH": f"{CKANAPI.parent}:{os.environ['PATH']}"}
    result = subprocess.run([str(CKANAPI), "action", *args, "-c", str(DEV_INI)], capture_output=True, text=True,
                            env=env)
    return json.loads(result.stdout) if result.returncode == 0 else None


def psql(sql):
    socket_dir = STATE / "run" / "postgresql"
    as_postgres = ["runuser", "-u", "postgres", "--"] if socket_dir.owner() == "postgres" else []
    return subprocess.run([*as_postgres, "psql", "-X", "-A", "-t", "-h", str(socket_dir), "-p", "55432",
                           "-U", "postgres", "-d", "postgres", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def snapshot():
    return {
        "files": {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in GENERATED},
        "databases": psql("SELECT datname, pg_get_userbyid(datdba) FROM pg_database ORDER BY 1"),
        "roles": psql("SELECT rolname, rolpassword FROM pg_authid ORDER BY 1"),
    }


@pytest.fixture
def probe_dataset():
    """A dataset in the development database that a second setup must not lose."""
    if not DEV_INI.exists():
        pytest.fail("no development stack: run `make setup` first")
    ckanapi("organization_create", f"name={PROBE['org']}", "title=Probe")
    created = ckanapi("package_create", f"name={PROBE['dataset']}", "title=Pegelstände (Probe)", "notes=Probe",
            f"owner_org={PROBE['org']}", 'theme:["http://publications.europa.eu/resource/authority/data-theme/ENVI"]',
            "license_id=http://dcat-ap.de/def/licenses/dl-zero-de/2.0")
    assert created, "could not create the probe dataset in the development database"
    yield PROBE["dataset"]
    ckanapi("dataset_purge", f"id={PROBE['dataset']}")
    ckanapi("organization_purge", f"id={PROBE['org']}")


def test_second_setup_changes_nothing_and_keeps_data(probe_dataset):
    before = snapshot()

    result = subprocess.run([sys.executable, str(PROJECT / "scripts" / "stack.py"), "setup"],
                            capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stderr
    assert "is a sysadmin" not in result.stdout and "Sysadmin created" not in result.stdout
    assert "created database" not in result.stdout
    assert snapshot() == before
    assert ckanapi("package_show", f"id={probe_dataset}")["title"] == "Pegelstände (Probe)"
    found = ckanapi("package_search", "q=Pegelstand")
    assert probe_dataset in {dataset["name"] for dataset in found["results"]}
