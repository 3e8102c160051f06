"""`ckan harvest-sources sync` against the real database: the catalogue harvesters/sources.yaml becomes
ckanext-harvest sources, checked completely before anything is written."""
import json
from pathlib import Path

import pytest

import ckan.model as model
from ckan.cli.cli import ckan as ckan_command
from ckan.tests import factories, helpers

from ckanext.suedwest.tests import factories as dcatde

REPOSITORY = Path(__file__).resolve().parents[4]
CATALOGUE = REPOSITORY / "harvesters" / "sources.yaml"

SOURCE = """\
sources:
  - name: pegel-kusel
    title: Pegel im Landkreis Kusel
    type: pegelonline
    url: https://pegel.example.org/webservices/rest-api/v2
    organization: landkreis-kusel
    frequency: {frequency}
    config:
      waters: [GLAN]
      owner: landkreis-kusel
"""


def sync(cli, *args):
    return cli.invoke(ckan_command, ["harvest-sources", "sync", *args])


def harvest_sources():
    return {name: helpers.call_action("harvest_source_show", id=name) for (name,) in model.Session.query(
        model.Package.name).filter(model.Package.type == "harvest", model.Package.state == "active")}


@pytest.fixture
def municipalities(clean_db):
    return {name: factories.Organization(name=name) for name in ("kaiserslautern", "landkreis-kusel")}


@pytest.fixture
def catalogue(tmp_path):
    def write(text):
        path = tmp_path / "sources.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


class TestSync:
    def test_the_platform_catalogue_creates_the_pegelonline_source(self, cli, municipalities):
        result = sync(cli, "--file", str(CATALOGUE))

        assert result.exit_code == 0, result.output
        assert "created: pegelonline-rhein-mosel-saar" in result.output
        source = harvest_sources()["pegelonline-rhein-mosel-saar"]
        assert source["source_type"] == "pegelonline"
        assert source["url"] == "https://www.pegelonline.wsv.de/webservices/rest-api/v2"
        assert source["owner_org"] == municipalities["kaiserslautern"]["id"]
        assert source["frequency"] == "DAILY"
        config = json.loads(source["config"])
        assert (set(config["waters"]), config["owner"]) == ({"RHEIN", "MOSEL", "SAAR"}, "by_location")

    def test_a_second_sync_changes_nothing(self, cli, municipalities, catalogue):
        path = catalogue(SOURCE.format(frequency="WEEKLY"))
        sync(cli, "--file", path)
        before = harvest_sources()["pegel-kusel"]["metadata_modified"]

        result = sync(cli, "--file", path)

        assert result.exit_code == 0, result.output
        assert "unchanged: pegel-kusel" in result.output
        assert harvest_sources()["pegel-kusel"]["metadata_modified"] == before

    def test_a_changed_entry_updates_its_source(self, cli, municipalities, catalogue):
        sync(cli, "--file", catalogue(SOURCE.format(frequency="WEEKLY")))

        result = sync(cli, "--file", catalogue(SOURCE.format(frequency="daily")))

        assert "updated: pegel-kusel" in result.output
        assert harvest_sources()["pegel-kusel"]["frequency"] == "DAILY"

    def test_a_source_left_out_is_reported_and_kept(self, cli, municipalities, catalogue):
        sync(cli, "--file", catalogue(SOURCE.format(frequency="WEEKLY")))

        result = sync(cli, "--file", catalogue("sources: []\n"))

        assert result.exit_code == 0, result.output
        assert "not in the catalogue (kept, with its datasets): pegel-kusel" in result.output
        assert "pegel-kusel" in harvest_sources()

    def test_check_changes_nothing(self, cli, municipalities, catalogue):
        result = sync(cli, "--file", catalogue(SOURCE.format(frequency="WEEKLY")), "--check")

        assert result.exit_code == 0, result.output
        assert "1 sources, all valid" in result.output
        assert harvest_sources() == {}


class TestErrors:
    """Any error names the line, and not even the valid entries before it are written."""

    @pytest.mark.parametrize("bad_entry, message", [
        ("    typo: 1\n", "line 16: unknown key 'typo'"),
        ("    config: {waters: [SAAR], owner: nowhere}\n", "There is no municipality (organisation) \"nowhere\""),
        ("    config: {rivers: [SAAR]}\n", "Unknown setting \"rivers\""),
        ("    frequency: HOURLY\n", "frequency"),
        ("    organization: nowhere\n", "no organisation 'nowhere'"),
        ("    type: ftp\n", "source_type"),
    ])
    def test_bad_second_entry(self, cli, municipalities, catalogue, bad_entry, message):
        second = {"name": "pegel-saar", "title": "Saar", "type": "pegelonline",
                  "url": "https://pegel.example.org/api", "organization": "kaiserslautern"}
        key = bad_entry.split(":")[0].strip()
        lines = [f"    {name}: {value}\n" for name, value in second.items() if name != key]
        text = SOURCE.format(frequency="WEEKLY") + "  - name: pegel-saar\n" + "".join(lines[1:]) + bad_entry

        result = sync(cli, "--file", catalogue(text))

        assert result.exit_code != 0
        assert message in result.output
        assert "Nothing was changed" in result.output
        assert harvest_sources() == {}

    def test_name_of_a_dataset(self, cli, municipalities, catalogue):
        dcatde.Dataset(name="pegel-kusel", owner_org=municipalities["landkreis-kusel"]["id"])

        result = sync(cli, "--file", catalogue(SOURCE.format(frequency="WEEKLY")))

        assert "line 2: source 'pegel-kusel': name: " in result.output
        assert harvest_sources() == {}

    def test_same_name_twice(self, cli, municipalities, catalogue):
        entry = SOURCE.format(frequency="WEEKLY").split("\n", 1)[1]

        result = sync(cli, "--file", catalogue("sources:\n" + entry + entry))

        assert "line 11: source 'pegel-kusel' is listed twice" in result.output
        assert harvest_sources() == {}

    def test_not_yaml(self, cli, municipalities, catalogue):
        result = sync(cli, "--file", catalogue("sources:\n  - name: [unclosed\n"))

        assert "line 3: not valid YAML" in result.output
