"""The data steward's flow in a real browser: Debian's headless Chromium, driven by Playwright, against a CKAN
development server that the test starts on a free loopback port.

The steward logs in through the login form, fills the dataset form (title with umlauts, description, a theme,
a licence that requires attribution), sees the inline German error, adds the attribution text, adds two
resources by URL and finishes. The dataset page is saved as ``test-artifacts/dataset-page.png`` (the form with
the error as ``dataset-form-error.png``, the page of a failed step as ``dataset-form-failure.png``). Every request
the pages make is recorded: none may leave 127.0.0.1 (no CDN, web fonts or trackers).
"""
import contextlib
import socket
import time
import types
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.suedwest.tests.factories import DL_BY, ENVI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage", "--no-proxy-server", "--lang=de-DE"]
PASSWORD = "Lauter-Pegel-2026"
TITLE = "Pegelstände der Lauter in Kaiserslautern"
ATTRIBUTION = "Stadt Kaiserslautern, Referat Umwelt (2026)"
NEEDS_ATTRIBUTION = ("Diese Lizenz verlangt einen Namensnennungstext "
                     "(wer bei der Nutzung der Daten genannt werden muss)")
TENANT_EMAIL = "opendata@kaiserslautern.example"
TENANT_GEOCODING = "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/07312000"
RESOURCES = [("Messwerte 2025", "https://daten.kaiserslautern.de/pegel/lauter-2025.csv", "CSV"),
             ("Messwerte 2026", "https://daten.kaiserslautern.de/pegel/lauter-2026.json", "JSON")]

# The marks of every browser test module: `pytestmark = BROWSER_TEST` (with the fixtures imported from here).
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=(
        "the browser test drives Debian's Chromium at /usr/bin/chromium, which is not installed "
        "(scripts/setup.sh installs it: apt-get install chromium)")),
]
pytestmark = BROWSER_TEST


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url, process, log, timeout=90):
    """Until the server answers; fail with its log if it exits or does not come up."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"CKAN exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with opener.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"CKAN did not answer {url} within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def ckan_server(clean_db, clean_index, ckan_process, tmp_path):
    """``ckan run`` on a free loopback port with the test config, CSRF protection on as in production.
    Started after clean_db, so it sees what the test creates (the action API commits)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    test_ini = Path(tk.config["__file__"]).resolve()
    logging = test_ini.read_text().split("[loggers]", 1)[1]
    ini = tmp_path / "browser.ini"
    ini.write_text(f"[app:main]\nuse = config:{test_ini}\nckan.site_url = {base_url}\n"
                   f"WTF_CSRF_ENABLED = true\n\n[loggers]{logging}")
    log = tmp_path / "ckan-server.log"
    process = ckan_process(ini, "run", "-H", "127.0.0.1", "-p", str(port), "--disable-reloader", "--threaded",
                           log=log)
    wait_for_http(f"{base_url}/api/3/action/status_show", process, log)
    return base_url


@pytest.fixture
def steward(clean_db):
    """A user with a password, editor of a municipality, created through the action API (committed)."""
    user = helpers.call_action("user_create", name="erika-steward", fullname="Erika Mustermann",
                               email="erika.mustermann@kaiserslautern.example", password=PASSWORD)
    sysadmin = helpers.call_action("get_site_user")
    org = helpers.call_action("organization_create", context={"user": sysadmin["name"]}, name="kaiserslautern",
                              title="Stadt Kaiserslautern", contact_email=TENANT_EMAIL, bbox="7.64,49.36,7.93,49.5",
                              political_geocoding_uri=TENANT_GEOCODING,
                              users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org}


@pytest.fixture
def artifacts(pytestconfig):
    """``test-artifacts/`` in the repository root (git-ignored), without the failure picture of an earlier run."""
    folder = pytestconfig.rootpath / "test-artifacts"
    folder.mkdir(exist_ok=True)
    (folder / "dataset-form-failure.png").unlink(missing_ok=True)
    return folder


@pytest.fixture
def browser_page(ckan_server):
    """A Chromium page that records every request it makes and every uncaught script error."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        recorded = types.SimpleNamespace(page=page, requests=[], script_errors=[])
        context.on("request", lambda request: recorded.requests.append(request.url))
        page.on("pageerror", lambda error: recorded.script_errors.append(str(error)))
        try:
            yield recorded
        finally:
            context.close()
            browser.close()


@contextlib.contextmanager
def screenshot_on_failure(page, path):
    """Keep a picture of the page where a step failed, next to the dataset page screenshot."""
    try:
        yield
    except Exception:
        page.screenshot(path=str(path), full_page=True)
        raise


def test_steward_creates_a_dataset_in_the_browser(ckan_server, steward, browser_page, artifacts):
    page = browser_page.page
    with screenshot_on_failure(page, artifacts / "dataset-form-failure.png"):
        name = create_dataset_as_steward(page, ckan_server, artifacts)
    page.screenshot(path=str(artifacts / "dataset-page.png"), full_page=True)

    assert name == "pegelstande-der-lauter-in-kaiserslautern"  # the form's slug module: URL from the title
    model.Session.remove()  # see what the server process committed
    dataset = helpers.call_action("package_show", id=name)
    assert dataset["title"] == TITLE
    assert dataset["state"] == "active" and dataset["private"] is False
    assert dataset["owner_org"] == steward["org"]["id"]
    assert dataset["theme"] == [ENVI]
    assert dataset["license_attribution_by_text"] == ATTRIBUTION
    assert [(r["name"], r["url"], r["format"]) for r in dataset["resources"]] == RESOURCES
    # the municipality's defaults, pre-filled in the form, were saved with it
    assert [(p["name"], p["email"]) for p in dataset["publisher"]] == [("Stadt Kaiserslautern", TENANT_EMAIL)]
    assert dataset["political_geocoding_uri"] == [TENANT_GEOCODING]

    # Datenschutz: the pages loaded nothing from anywhere but this server.
    assert len(browser_page.requests) > 10
    outside = [url for url in browser_page.requests
               if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests leaving 127.0.0.1: {outside}"
    assert browser_page.script_errors == []


def create_dataset_as_steward(page, base_url, artifacts):
    """The steward's clicks and keystrokes, checking what the pages show; returns the dataset's name."""
    from playwright.sync_api import expect

    # Log in through the real login form.
    page.goto(f"{base_url}/user/login")
    expect(page.locator("label[for=field-login]")).to_contain_text("Benutzername oder Email")
    page.locator("#field-login").fill("erika-steward")
    page.locator("#field-password").fill(PASSWORD)
    page.get_by_role("button", name="Anmeldung", exact=True).click()
    expect(page.locator(".account")).to_contain_text("Erika Mustermann")

    # Stage one: a licence that requires attribution, without the attribution text.
    page.goto(f"{base_url}/dataset/new")
    for field, label in [("title", "Titel"), ("notes", "Beschreibung"), ("theme", "Kategorien"),
                         ("license_id", "Lizenz"), ("license_attribution_by_text", "Namensnennungstext")]:
        expect(page.locator(f"label[for=field-{field}]")).to_contain_text(label)
    # the municipality's defaults are pre-filled (tenant-form-defaults module)
    expect(page.locator("#field-publisher-0-name")).to_have_value("Stadt Kaiserslautern")
    expect(page.locator("#field-publisher-0-email")).to_have_value(TENANT_EMAIL)
    expect(page.locator("#field-spatial_coverage-0-text")).to_have_value("Stadt Kaiserslautern")
    page.locator("#field-title").fill(TITLE)
    page.locator("#field-notes").fill("Wasserstände der Lauter, gemessen alle 15 Minuten an der Gartenschau.")
    page.locator("#field-theme").select_option(ENVI)
    page.locator("#field-private").select_option("False")
    page.locator("#field-license_id").select_option(DL_BY)
    page.get_by_role("button", name="Als nächstes: Daten hinzufügen").click()

    attribution = page.locator(".form-group").filter(has=page.locator("#field-license_attribution_by_text"))
    expect(attribution.locator(".error-block")).to_have_text(NEEDS_ATTRIBUTION)
    expect(page.locator(".error-explanation")).to_contain_text("Das Formular enthält unzulässige Einträge")
    expect(page.locator("#field-title")).to_have_value(TITLE)  # what was typed is kept
    attribution.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "dataset-form-error.png"))

    page.locator("#field-license_attribution_by_text").fill(ATTRIBUTION)
    page.get_by_role("button", name="Als nächstes: Daten hinzufügen").click()

    # Stage two: two resources by URL.
    for index, (name, url, file_format) in enumerate(RESOURCES):
        expect(page.locator(".stages li.active")).to_contain_text("Daten hinzufügen")
        page.locator("#resource-link-button").click()  # "Link": enter an address instead of uploading
        page.locator("#field-resource-url").fill(url)
        page.locator("#field-name").fill(name)
        page.locator("#field-format").select_option(file_format)
        last = index == len(RESOURCES) - 1
        page.get_by_role("button", name="Beenden" if last else "Speichern & weitere hinzufügen").click()

    # The published dataset page.
    expect(page.locator("article h1")).to_have_text(TITLE)
    headings = page.locator("ul.resource-list a.heading")
    expect(headings).to_have_count(2)
    expect(headings.nth(0)).to_have_attribute("title", RESOURCES[0][0])
    expect(headings.nth(1)).to_have_attribute("title", RESOURCES[1][0])
    expect(page.locator("body")).to_contain_text("Daten und Ressourcen")
    expect(page.locator("body")).to_contain_text("Datenlizenz Deutschland – Namensnennung – Version 2.0")
    expect(page.locator("section.additional-info")).to_contain_text(ATTRIBUTION)
    expect(page.locator("a[hx-post*='/follow/']")).to_have_text("Folgen")
    return urlsplit(page.url).path.rsplit("/", 1)[-1]
