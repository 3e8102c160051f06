"""`ckan tenant sync|list|add-user` against the real database."""
from pathlib import Path

import pytest

import ckan.model as model
from ckan.cli.cli import ckan as ckan_command
from ckan.tests import factories, helpers

TENANTS_FILE = Path(__file__).resolve().parents[4] / "config" / "tenants.yaml"
SIX = {"kaiserslautern", "landkreis-kusel", "landkreis-mayen-koblenz", "eifelkreis-bitburg-pruem",
       "linz-am-rhein", "landkreis-sankt-wendel"}


def tenant(cli, *args):
    return cli.invoke(ckan_command, ["tenant", *args])


def organizations():
    return {org["name"]: org for org in helpers.call_action(
        "organization_list", all_fields=True, include_extras=True, limit=1000)}


@pytest.mark.usefixtures("clean_db")
class TestSync:
    def test_creates_the_six_municipalities_with_their_keys(self, cli):
        result = tenant(cli, "sync", "--file", str(TENANTS_FILE))

        assert result.exit_code == 0, result.output
        orgs = organizations()
        assert set(orgs) == SIX
        assert orgs["kaiserslautern"]["official_key"] == "07312000"
        assert orgs["landkreis-kusel"]["political_geocoding_uri"] == (
            "http://dcat-ap.de/def/politicalGeocoding/districtKey/07336")
        assert orgs["landkreis-sankt-wendel"]["federal_state"] == "Saarland"
        assert orgs["landkreis-kusel"]["bbox"] == "7.19,49.43,7.63,49.7"
        assert all(org["state"] == "active" for org in orgs.values())

    def test_second_sync_changes_nothing(self, cli):
        tenant(cli, "sync", "--file", str(TENANTS_FILE))
        before = {name: org["id"] for name, org in organizations().items()}
        revisions = model.Session.query(model.Group).count()

        result = tenant(cli, "sync", "--file", str(TENANTS_FILE))

        assert result.exit_code == 0
        assert "unchanged: " in result.output and "created" not in result.output and "updated" not in result.output
        assert {name: org["id"] for name, org in organizations().items()} == before
        assert model.Session.query(model.Group).count() == revisions

    def test_changed_entry_is_updated_and_a_removed_one_reported_not_deleted(self, cli, tmp_path):
        tenant(cli, "sync", "--file", str(TENANTS_FILE))
        text = TENANTS_FILE.read_text(encoding="utf-8").replace("https://www.linz.de", "https://www.linz-am-rhein.de")
        start = text.index("  - name: landkreis-sankt-wendel")
        changed = tmp_path / "tenants.yaml"
        changed.write_text(text[:start], encoding="utf-8")

        result = tenant(cli, "sync", "--file", str(changed))

        assert result.exit_code == 0, result.output
        assert "updated: linz-am-rhein" in result.output
        assert "not in the tenants file (kept, with its data): landkreis-sankt-wendel" in result.output
        orgs = organizations()
        assert orgs["linz-am-rhein"]["website"] == "https://www.linz-am-rhein.de"
        assert "landkreis-sankt-wendel" in orgs


@pytest.mark.usefixtures("clean_db")
class TestBadFiles:
    # A YAML parser notices an unclosed bracket on the line after it (offset 1).
    @pytest.mark.parametrize("mistake, offset, message", [
        ("    kreis: Kusel\n", 0, "unknown key 'kreis'"),
        ("    official_key: [07336\n", 1, "not valid YAML"),
    ])
    def test_error_names_the_line_and_nothing_is_applied(self, cli, tmp_path, mistake, offset, message):
        lines = TENANTS_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
        first_tenant = next(i for i, text in enumerate(lines) if text.startswith("  - name:"))
        bad = lines[:first_tenant + 1] + [mistake] + lines[first_tenant + 1:]
        path = tmp_path / "tenants.yaml"
        path.write_text("".join(bad), encoding="utf-8")
        mistake_line = first_tenant + 2 + offset

        result = tenant(cli, "sync", "--file", str(path))

        assert result.exit_code != 0
        assert f"line {mistake_line}" in result.output and message in result.output
        assert "Nothing was changed" in result.output
        assert "Traceback" not in result.output
        assert organizations() == {}

    def test_invalid_value_in_a_later_tenant_applies_nothing(self, cli, tmp_path):
        path = tmp_path / "tenants.yaml"
        path.write_text(TENANTS_FILE.read_text(encoding="utf-8").replace('"10046"', '"1004"'), encoding="utf-8")

        result = tenant(cli, "sync", "--file", str(path))

        assert result.exit_code != 0 and "landkreis-sankt-wendel" in result.output
        assert organizations() == {}


@pytest.mark.usefixtures("clean_db")
def test_add_user_with_a_role(cli):
    tenant(cli, "sync", "--file", str(TENANTS_FILE))
    user = factories.User()

    result = tenant(cli, "add-user", user["name"], "landkreis-kusel", "--role", "editor")

    assert result.exit_code == 0, result.output
    members = helpers.call_action("member_list", id="landkreis-kusel", object_type="user")
    assert (user["id"], "user", "Editor") in [tuple(member) for member in members]
    unknown = tenant(cli, "add-user", "nobody-here", "landkreis-kusel")
    assert unknown.exit_code != 0 and "not found" in unknown.output.lower()
