"""`ckan tenant sync|list|add-user` against the real database."""
import struct
import zlib
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


def png(width=2, height=2):
    """A small valid PNG picture (grey pixels), made here: tests need no image library."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def with_logo(tmp_path, value, tenant="landkreis-kusel", extra=""):
    """A copy of the tenants file in tmp_path with `logo: value` for one tenant; returns it and that line."""
    lines = TENANTS_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    at = lines.index(f"  - name: {tenant}\n") + 1
    lines[at:at] = [f"    logo: {value}\n", *([extra] if extra else [])]
    path = tmp_path / "tenants.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path, at + 1


@pytest.fixture
def storage(tmp_path, ckan_config):
    """A config file whose uploads go to a folder of this test, and that folder's organisation images. (The
    command loads its config file into CKAN's config, which ckan_config restores after the test.)"""
    folder = tmp_path / "storage"
    ini = tmp_path / "storage.ini"
    test_ini = Path(ckan_config["__file__"]).resolve()
    logging_sections = test_ini.read_text().split("[loggers]", 1)[1]
    ini.write_text(f"[app:main]\nuse = config:{test_ini}\nckan.storage_path = {folder}\n\n[loggers]{logging_sections}")
    return ini, folder / "storage" / "uploads" / "group"


@pytest.mark.usefixtures("clean_db")
class TestLogos:
    def test_logo_file_is_uploaded_and_served_once_per_content(self, cli, make_app, tmp_path, storage):
        ini, storage = storage
        (tmp_path / "logos").mkdir()
        logo = tmp_path / "logos" / "kusel.png"
        logo.write_bytes(png())
        path, _ = with_logo(tmp_path, "logos/kusel.png")

        def sync():
            return cli.invoke(ckan_command, ["-c", str(ini), "tenant", "sync", "--file", str(path)])

        first = sync()

        assert first.exit_code == 0, first.output
        kusel = organizations()["landkreis-kusel"]
        assert kusel["image_url"].endswith(".png") and "logo-" in kusel["image_url"]
        assert [file.name for file in storage.iterdir()] == [kusel["image_url"]]
        served = make_app().get(kusel["image_display_url"].replace("http://test.ckan.net", ""))
        assert served.status_code == 200 and served.data == png()
        assert organizations()["kaiserslautern"]["image_url"] == ""  # no logo given, none invented

        again = sync()
        assert "updated" not in again.output and organizations()["landkreis-kusel"]["image_url"] == kusel["image_url"]

        logo.write_bytes(png(3, 3))
        changed = sync()
        assert "updated: landkreis-kusel" in changed.output
        new_name = organizations()["landkreis-kusel"]["image_url"]
        assert new_name != kusel["image_url"]
        # The earlier picture stays on disk, as with CKAN's own form (older activities may show it).
        assert sorted(file.name for file in storage.iterdir()) == sorted([kusel["image_url"], new_name])

    def test_https_logo_is_the_image_url(self, cli, tmp_path):
        path, _ = with_logo(tmp_path, "https://www.landkreis-kusel.de/logo.png")

        result = tenant(cli, "sync", "--file", str(path))

        assert result.exit_code == 0, result.output
        assert organizations()["landkreis-kusel"]["image_url"] == "https://www.landkreis-kusel.de/logo.png"

    @pytest.mark.parametrize("value, content, message", [
        ("logos/missing.png", None, "logo: file not found: "),
        ("logos/kusel.png", b"not a picture", "logo kusel.png is text/plain; allowed are image/png, image/gif, "
                                              "image/jpeg (ckan.upload.group.mimetypes)"),
        ("logos/kusel.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "logo kusel.svg is image/svg+xml"),
        ("logos/kusel.png", png() + bytes(1 << 20), "logo kusel.png has 1.0 MB, more than ckan.max_image_size (1 MB)"),
        ("http://www.landkreis-kusel.de/logo.png", None, "an address must start with https://"),
    ])
    def test_bad_logo_names_the_line_and_changes_nothing(self, cli, tmp_path, ckan_config, monkeypatch, value,
                                                         content, message):
        monkeypatch.setitem(ckan_config, "ckan.max_image_size", 1)
        (tmp_path / "logos").mkdir()
        if content is not None:
            (tmp_path / value).write_bytes(content)
        path, line = with_logo(tmp_path, value)

        result = tenant(cli, "sync", "--file", str(path))

        assert result.exit_code != 0
        assert f"line {line}: " in result.output and message in result.output, result.output
        assert "Nothing was changed" in result.output and "Traceback" not in result.output
        assert organizations() == {}

    def test_logo_file_without_storage_is_refused(self, cli, tmp_path, ckan_config):
        (tmp_path / "logos").mkdir()
        (tmp_path / "logos" / "kusel.png").write_bytes(png())
        path, line = with_logo(tmp_path, "logos/kusel.png")
        test_ini = Path(ckan_config["__file__"]).resolve()
        ini = tmp_path / "no-storage.ini"
        ini.write_text(f"[app:main]\nuse = config:{test_ini}\nckan.storage_path =\n\n[loggers]"
                       + test_ini.read_text().split("[loggers]", 1)[1])

        result = cli.invoke(ckan_command, ["-c", str(ini), "tenant", "sync", "--file", str(path)])

        assert result.exit_code != 0
        assert f"line {line}: logo: uploading a file needs ckan.storage_path" in result.output
        assert organizations() == {}

    def test_logo_and_image_url_together_are_refused(self, cli, tmp_path):
        path, line = with_logo(tmp_path, "https://www.landkreis-kusel.de/logo.png",
                               extra="    image_url: https://www.landkreis-kusel.de/other.png\n")

        result = tenant(cli, "sync", "--file", str(path))

        assert result.exit_code != 0
        assert f"line {line - 1}: tenant 'landkreis-kusel' has both logo and image_url" in result.output
        assert organizations() == {}

