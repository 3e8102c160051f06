"""The data steward's dataset form in German, through CKAN's Flask test app.

An editor of an organisation opens the form, gets inline German errors for missing and invalid values,
fixes them, adds two resources through CKAN's two-stage form (stage 1 creates a draft, the resource stage
publishes it), sees the dataset page and edits the title. The action API answers bad values with German
messages too, because CKAN picks the language from the URL (``/en/...``) or ``ckan.locale_default = de``,
never from the Accept-Language header.
"""
import lxml.html
import pytest
from werkzeug.datastructures import MultiDict

import ckan.model as model
from ckan.tests import factories, helpers

from ckanext.suedwest.tests.factories import DL_BY, DL_ZERO, ENVI

CC_BY = "http://dcat-ap.de/def/licenses/cc-by/4.0"
DAILY = "http://publications.europa.eu/resource/authority/frequency/DAILY"
TITLE = "Pegelstände der Lauter"
NAME = "pegelstaende-lauter"
ATTRIBUTION = "Stadt Kaiserslautern, Referat Umwelt (2026)"

# German texts: CKAN core's catalogue and ours (i18n/de/LC_MESSAGES/ckanext-suedwest.po)
MISSING = "Fehlender Wert"
NOT_A_CHOICE = "Dieser Wert steht nicht zur Auswahl"
NEEDS_ATTRIBUTION = ("Diese Lizenz verlangt einen Namensnennungstext "
                     "(wer bei der Nutzung der Daten genannt werden muss)")
NOT_AN_ADDRESS = "Bitte eine vollständige Adresse angeben, die mit http:// oder https:// beginnt"


@pytest.fixture
def editor(clean_db, clean_index):
    """A user with an API token who is an editor (not an admin) of one organisation."""
    user = factories.UserWithToken()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org, "headers": {"Authorization": user["token"]}}


def page(response):
    return lxml.html.fromstring(response.body)


def text(element):
    return " ".join(element.text_content().split())


def labels(doc):
    """Visible label texts of the form fields, without the asterisk of required fields."""
    return {text(label).lstrip("* ").strip() for label in doc.xpath("//form//label")}


def inline_errors(doc):
    """{label of the form field: its error message}, as shown under each field."""
    errors = {}
    for block in doc.xpath("//form//span[@class='error-block']"):
        group = next(a for a in block.iterancestors("div") if "form-group" in a.get("class", "").split())
        errors[text(group.xpath(".//label")[0]).lstrip("* ").strip()] = text(block)
    return errors


def options(doc, name):
    """{value: label} of a select. scheming's multiple_select.html writes <option ... />label</option>;
    browsers ignore the slash, lxml closes the element there and leaves the label as its tail."""
    return {option.get("value"): " ".join((option.text_content() or option.tail or "").split())
            for option in doc.xpath(f"//select[@name='{name}']/option")}


def error_summary(doc):
    """{field name: "Label: message"} from the box above the form."""
    return {item.get("data-field-label"): text(item)
            for item in doc.xpath("//div[contains(@class, 'error-explanation')]//li")}


def form_fields(doc, form_id):
    """What a browser with JavaScript submits for the form: its successful controls, without the hidden
    templates of repeating subfields (scheming's JavaScript module removes them when the page loads)."""
    form = doc.get_element_by_id(form_id)
    return [(name, value) for name, value in form.form_values() if "REPEATING-INDEX" not in name]


def location(response):
    return response.headers["Location"].replace("http://test.ckan.net", "")


def stage_one(org, **values):
    """The fields of the first stage as the steward fills them, plus what the form itself sends."""
    return {"_ckan_phase": "dataset_new_1", "pkg_name": "", "save": "", "owner_org": org["id"],
            "private": "False", **values}


@pytest.mark.usefixtures("with_plugins")
class TestDatasetForm:
    def test_new_dataset_form_is_german(self, app, editor):
        response = app.get("/dataset/new", headers=editor["headers"])

        assert response.status_code == 200
        doc = page(response)
        assert {"Titel", "URL", "Beschreibung", "Kategorien", "Schlagwörter", "Organisation", "Sichtbarkeit",
                "Lizenz", "Namensnennungstext", "Kontaktstellen", "Aktualisierungsintervall"} <= labels(doc)
        assert options(doc, "license_id")[DL_BY] == "Datenlizenz Deutschland – Namensnennung – Version 2.0"
        assert options(doc, "theme")[ENVI] == "Umwelt"
        organisations = doc.xpath("//select[@name='owner_org']/option/@value")
        assert organisations == [editor["org"]["id"]]
        assert "Als nächstes: Daten hinzufügen" in text(doc.xpath("//form[@id='dataset-edit']//button")[-1])

    def test_steward_creates_fixes_publishes_and_edits(self, app, editor):
        headers, org = editor["headers"], editor["org"]

        # 1. Stage one with the URL (and so the title) and the description missing, a theme that is not on
        #    the list and a licence that requires attribution but no attribution text.
        response = app.post("/dataset/new", headers=headers, data=stage_one(
            org, title="", name="", notes="", theme="http://example.org/no-such-theme", license_id=DL_BY,
            license_attribution_by_text=""))

        assert response.status_code == 200
        doc = page(response)
        assert "Das Formular enthält unzulässige Einträge:" in text(doc)
        errors = inline_errors(doc)
        assert errors["URL"] == MISSING
        assert errors["Beschreibung"] == MISSING
        assert errors["Kategorien"].startswith(NOT_A_CHOICE)
        assert "http://example.org/no-such-theme" in errors["Kategorien"]
        assert errors["Namensnennungstext"] == NEEDS_ATTRIBUTION
        summary = error_summary(doc)
        assert summary["notes"] == f"Beschreibung: {MISSING}"
        assert summary["license_attribution_by_text"] == f"Namensnennungstext: {NEEDS_ATTRIBUTION}"
        # what the steward chose is still selected
        assert doc.xpath("//select[@name='license_id']/option[@selected]/@value") == [DL_BY]
        assert model.Session.query(model.Package).count() == 0

        # 2. Fixed: stage one creates a draft and moves on to the resource stage.
        response = app.post("/dataset/new", headers=headers, follow_redirects=False, data=stage_one(
            org, title=TITLE, name=NAME, notes="Wasserstände der Lauter in Kaiserslautern, alle 15 Minuten.",
            theme=ENVI, license_id=DL_BY, license_attribution_by_text=ATTRIBUTION, frequency=DAILY))

        assert response.status_code == 302
        resource_stage = location(response)
        assert resource_stage == f"/dataset/{NAME}/resource/new"
        assert model.Package.by_name(NAME).state == "draft"

        doc = page(app.get(resource_stage, headers=headers))
        assert {"Zugangs-URL", "Titel", "Beschreibung", "Format", "Lizenz", "Download-URL"} <= labels(doc)
        buttons = {button.get("value"): text(button) for button in doc.xpath("//button[@name='save']")}
        assert buttons["again"] == "Speichern & weitere hinzufügen"
        assert buttons["go-metadata"] == "Beenden"

        # 3. The first resource; "again" asks for another one.
        response = app.post(resource_stage, headers=headers, follow_redirects=False, data={
            "id": "", "url": "https://daten.kaiserslautern.de/pegel/lauter-2025.csv", "name": "Messwerte 2025",
            "format": "CSV", "save": "again"})

        assert response.status_code == 302
        assert location(response) == resource_stage

        # 4. The second resource, first with its own licence but no attribution text and a broken address.
        second = {"id": "", "url": "https://daten.kaiserslautern.de/pegel/lauter-2026.json",
                  "name": "Messwerte 2026", "format": "JSON", "license": CC_BY,
                  "download_url": "daten.kaiserslautern.de/lauter.json", "save": "go-metadata"}
        response = app.post(resource_stage, headers=headers, data=second)

        assert response.status_code == 200
        errors = inline_errors(page(response))
        assert errors["Namensnennungstext"] == NEEDS_ATTRIBUTION
        assert errors["Download-URL"] == NOT_AN_ADDRESS
        assert model.Package.by_name(NAME).state == "draft"

        # 5. Fixed; "Beenden" saves it and publishes the dataset.
        second.update(license_attribution_by_text="Stadtentwässerung Kaiserslautern AöR",
                      download_url="https://daten.kaiserslautern.de/pegel/lauter-2026.json")
        response = app.post(resource_stage, headers=headers, follow_redirects=False, data=second)

        assert response.status_code == 302
        assert location(response) == f"/dataset/{NAME}"
        dataset = helpers.call_action("package_show", id=NAME)
        assert dataset["state"] == "active"
        assert dataset["private"] is False
        assert [r["name"] for r in dataset["resources"]] == ["Messwerte 2025", "Messwerte 2026"]
        assert dataset["license_attribution_by_text"] == ATTRIBUTION

        # 6. The dataset page, for anyone (published means active and public).
        doc = page(app.get(f"/dataset/{NAME}"))
        assert text(doc.xpath("//article//h1")[0]) == TITLE
        resources = doc.xpath("//ul[contains(@class, 'resource-list')]//a[@class='heading']/@title")
        assert resources == ["Messwerte 2025", "Messwerte 2026"]
        assert "Datenlizenz Deutschland – Namensnennung – Version 2.0" in text(doc)
        info = {text(row.xpath("./th")[0]): text(row.xpath("./td")[0])
                for row in doc.xpath("//section[contains(@class, 'additional-info')]//tbody/tr")}
        assert info["Kategorien"] == "Umwelt"
        assert info["Namensnennungstext"] == ATTRIBUTION
        assert info["Aktualisierungsintervall"] == "täglich"
        assert "Status" not in info  # only editors see the state
        doc = page(app.get(f"/dataset/{NAME}", headers=headers))
        assert "Status aktiv" in text(doc.xpath("//section[contains(@class, 'additional-info')]")[0])
        assert [text(a) for a in doc.xpath("//a[contains(@hx-post, '/follow/')]")] == ["Folgen"]

        # 7. Edit: the form comes back filled in; change the title and save.
        doc = page(app.get(f"/dataset/edit/{NAME}", headers=headers))
        assert doc.get_element_by_id("field-title").get("value") == TITLE
        assert doc.xpath("//select[@name='theme']/option[@selected]/@value") == [ENVI]
        fields = [(k, v) for k, v in form_fields(doc, "dataset-edit") if k != "title"]
        fields += [("title", "Pegelstände der Lauter (Messstelle Gartenschau)"), ("save", "")]
        response = app.post(f"/dataset/edit/{NAME}", headers=headers, data=MultiDict(fields),
                            follow_redirects=False)

        assert response.status_code == 302, inline_errors(page(response))
        assert location(response) == f"/dataset/{NAME}"
        doc = page(app.get(f"/dataset/{NAME}"))
        assert text(doc.xpath("//article//h1")[0]) == "Pegelstände der Lauter (Messstelle Gartenschau)"
        dataset = helpers.call_action("package_show", id=NAME)
        assert dataset["title"] == "Pegelstände der Lauter (Messstelle Gartenschau)"
        assert dataset["license_attribution_by_text"] == ATTRIBUTION
        assert dataset["theme"] == [ENVI]
        assert len(dataset["resources"]) == 2

    def test_finishing_without_a_resource_says_so_in_german(self, app, editor):
        response = app.post("/dataset/new", headers=editor["headers"], follow_redirects=False, data=stage_one(
            editor["org"], title=TITLE, name=NAME, notes="Messwerte", theme=ENVI, license_id=DL_ZERO))
        response = app.post(location(response), headers=editor["headers"],
                            data={"id": "", "url": "", "save": "go-metadata"})

        assert "Sie müssen mindestens eine Ressource hinzufügen" in text(page(response))
        assert model.Package.by_name(NAME).state == "draft"

    def test_empty_groups_of_the_form_are_not_stored(self, app, editor):
        empty_groups = {f"{field}-0-{sub}": "" for field, subs in [
            ("publisher", ["name", "uri", "type", "email", "url"]), ("contact", ["name", "email", "url", "phone"]),
            ("spatial_coverage", ["uri", "text", "bbox", "centroid"]), ("temporal_coverage", ["start", "end"])]
            for sub in subs}
        response = app.post("/dataset/new", headers=editor["headers"], follow_redirects=False, data=stage_one(
            editor["org"], title=TITLE, name=NAME, notes="Messwerte", theme=ENVI, license_id=DL_ZERO,
            **empty_groups))

        assert response.status_code == 302
        dataset = helpers.call_action("package_show", id=NAME)
        assert [dataset.get(field) or [] for field in ("contact", "spatial_coverage")] == [[], []]
        # an empty publisher group is no publisher: the municipality's default takes its place (ckanext-tenant)
        assert [p["name"] for p in dataset["publisher"]] == [editor["org"]["title"]]

    def test_dataset_page_lists_only_filled_fields(self, app, editor):
        helpers.call_action("package_create", context={"user": editor["user"]["name"]}, name=NAME, title=TITLE,
                            notes="Messwerte", theme=[ENVI], license_id=DL_ZERO, owner_org=editor["org"]["id"],
                            publisher=[{"name": "", "email": ""}],  # what the form stores when left empty
                            contact=[{"name": "Umweltamt", "email": "umwelt@kaiserslautern.de"}])

        doc = page(app.get(f"/dataset/{NAME}"))
        rows = [text(row.xpath("./th")[0]) for row in
                doc.xpath("//section[contains(@class, 'additional-info')]//tbody/tr")]
        # the empty publisher group is replaced by the municipality (tenant default)
        assert rows == ["Kategorien", "Veröffentlichende Stelle", "Kontaktstellen"]
        contact = text(doc.xpath("//section[contains(@class, 'additional-info')]//tbody/tr/td")[2])
        assert contact == "Kontaktstelle Name Umweltamt E-Mail umwelt@kaiserslautern.de"

    def test_missing_title_is_reported(self, app, editor):
        response = app.post("/dataset/new", headers=editor["headers"], data=stage_one(
            editor["org"], title="", name=NAME, notes="Messwerte", theme=ENVI, license_id=DL_ZERO))

        assert inline_errors(page(response)).get("Titel") == MISSING


@pytest.mark.usefixtures("with_plugins")
class TestApiErrorsInGerman:
    BAD = {"name": "pegel-lauter", "title": TITLE, "notes": "", "theme": ["http://example.org/no-such-theme"],
           "license_id": DL_BY, "url": "www.kaiserslautern.de/pegel",
           "contact": [{"name": "Umweltamt", "email": "umweltamt(at)kaiserslautern.de"}]}

    def create(self, app, editor, path="/api/3/action/package_create", **headers):
        response = app.post(path, json=dict(self.BAD, owner_org=editor["org"]["id"]),
                            headers={**editor["headers"], **headers})
        assert response.status_code == 409
        body = response.json
        assert body["success"] is False
        assert body["error"]["__type"] == "Validation Error"
        return body["error"]

    def test_validation_errors_are_german(self, app, editor):
        errors = self.create(app, editor)

        assert errors["notes"] == [MISSING]
        assert errors["license_attribution_by_text"] == [NEEDS_ATTRIBUTION]
        assert errors["theme"] == [f"{NOT_A_CHOICE}: „http://example.org/no-such-theme“"]
        assert errors["url"] == [NOT_AN_ADDRESS]
        assert errors["contact"] == [{"email": ["„umweltamt(at)kaiserslautern.de“ ist keine gültige E-Mail-Adresse"]}]
        assert model.Session.query(model.Package).count() == 0

    def test_accept_language_header_does_not_change_the_language(self, app, editor):
        errors = self.create(app, editor, **{"Accept-Language": "en-GB,en;q=0.9"})

        assert errors["notes"] == [MISSING]

    def test_english_through_the_url_prefix(self, app, editor):
        """CKAN's I18nMiddleware takes the language from the URL: /en/api/... gives the English msgids."""
        errors = self.create(app, editor, path="/en/api/3/action/package_create")

        assert errors["notes"] == ["Missing value"]
        assert errors["license_attribution_by_text"] == [
            "This licence requires an attribution text (who must be named when the data is used)"]

    def test_invalid_licence_is_german(self, app, editor):
        response = app.post("/api/3/action/package_create", headers=editor["headers"], json={
            "name": "pegel-lauter", "notes": "Messwerte", "theme": [ENVI], "owner_org": editor["org"]["id"],
            "license_id": "CC-BY-4.0"})

        assert response.status_code == 409
        assert response.json["error"]["license_id"] == [f"{NOT_A_CHOICE}: „CC-BY-4.0“"]

    def test_value_not_on_a_fixed_list_is_german(self, app, editor):
        response = app.post("/api/3/action/package_create", headers=editor["headers"], json={
            "name": "pegel-lauter", "notes": "Messwerte", "theme": [ENVI], "owner_org": editor["org"]["id"],
            "license_id": DL_ZERO, "frequency": "täglich"})

        assert response.status_code == 409
        assert response.json["error"]["frequency"] == [f"{NOT_A_CHOICE}: „täglich“"]
