"""pegel_series on real services: series tables written by the ingest store, downsampled by PostgreSQL,
checked against Python on the same readings; range validation and permissions over HTTP."""
import datetime as dt
import json
import math
import uuid

import pytest

from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.pegel.ingest import store
from ckanext.pegel.tests.ingest.fixtures import clean_datastore  # noqa: F401
from ckanext.pegel.tests.logic.stations import MELDESTUFEN, create_station
from ckanext.suedwest.tests import factories

UTC = dt.timezone.utc


@pytest.fixture
def world(clean_datastore, clean_index):  # noqa: F811
    sysadmin = ckan_factories.Sysadmin()
    member = ckan_factories.UserWithToken()
    kusel = ckan_factories.Organization(name="landkreis-kusel", title="Landkreis Kusel",
                                        users=[{"name": member["name"], "capacity": "member"}])
    return {"sysadmin": sysadmin, "member": member, "kusel": kusel}


@pytest.fixture
def station(world):
    """Create a station with a series table; ``readings`` are (minutes ago, value). Returns the resource."""

    def make(readings=(), private=False, **fields):
        return create_station(world["sysadmin"], world["kusel"], "Pegel Kusel (Kuselbach)", readings, private,
                              **fields)

    return make


def parse(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def thirty_days_of_minutes():
    """43,200 readings, one a minute, a wave between 150 and 350 cm with a kink every 97 minutes."""
    return [(ago, round(250 + 100 * math.sin(ago / 700.0) + (ago % 97) / 10.0, 2))
            for ago in range(30 * 24 * 60)]


class TestDownsampling:
    def test_30_days_of_minute_readings_become_at_most_points_buckets_that_match_python(self, world, station):
        resource = station(thirty_days_of_minutes())
        # The readings as stored (with their exact times), to group them the same way in Python.
        with store.write_engine().connect() as connection:
            stored = connection.exec_driver_sql(f'SELECT "time", "value" FROM "{resource["id"]}"').all()
        assert len(stored) == 43_200

        result = call_action("pegel_series", {"user": ""}, resource_id=resource["id"], range="30d", points=400)

        assert result["aggregated"] is True and result["unit"] == "cm"
        step = result["bucket_seconds"]
        assert step == 60 * math.ceil(30 * 86400 / (400 * 60))
        start, end = parse(result["start"]), parse(result["end"])
        assert end - start == dt.timedelta(days=30)
        expected = {}
        for time, value in stored:
            if start <= time < end:
                key = int((time - start).total_seconds() // step)
                expected.setdefault(key, []).append(value)
        buckets = result["buckets"]
        assert 350 < len(buckets) <= 400
        assert len(buckets) == len(expected)
        assert sum(bucket[4] for bucket in buckets) == sum(len(v) for v in expected.values())
        for time, low, high, mean, count in buckets:
            key = int((parse(time) - start).total_seconds() // step)
            assert parse(time) == start + dt.timedelta(seconds=key * step)
            values = expected[key]
            assert (low, high, count) == (min(values), max(values), len(values))
            assert mean == pytest.approx(sum(values) / len(values), abs=1e-3)
        # Oldest first, and small: a JSON payload of a few dozen KiB instead of 43,200 rows.
        assert [b[0] for b in buckets] == sorted(b[0] for b in buckets)
        assert len(json.dumps(result)) < 40_000

    def test_24h_with_few_readings_returns_the_raw_readings(self, world, station):
        resource = station([(2 * 24 * 60, 100.0), (600, 180.0), (300, 190.5), (15, 330.0), (0, 335.0)],
                           pegel_warning_levels=MELDESTUFEN)

        result = call_action("pegel_series", {"user": ""}, resource_id=resource["id"], range="24h")

        assert result["aggregated"] is False and result["bucket_seconds"] is None
        assert [b[1:] for b in result["buckets"]] == [
            [180.0, 180.0, 180.0, 1], [190.5, 190.5, 190.5, 1], [330.0, 330.0, 330.0, 1],
            [335.0, 335.0, 335.0, 1]]
        assert all(b[0].endswith("Z") for b in result["buckets"])
        # Thresholds and state as pegel_status reports them, so chart and map agree.
        status = {s["resource_id"]: s for s in call_action("pegel_status", {"user": ""})["stations"]}
        assert result["status"]["level"] == status[resource["id"]]["level"]
        assert result["status"]["level"]["class"] == "meldestufe_2"
        assert result["thresholds"]["levels"] == {"1": 250.0, "2": 320.0, "3": 400.0, "4": 480.0}
        assert result["status"]["latest"]["value"] == 335.0

    def test_7d_counts_only_the_week(self, world, station):
        readings = [(ago, 200.0 + (ago // 10) % 5) for ago in range(0, 10 * 24 * 60, 10)]
        resource = station(readings)

        result = call_action("pegel_series", {"user": ""}, resource_id=resource["id"], range="7d", points=100)

        assert result["aggregated"] is True and len(result["buckets"]) <= 100
        in_week = sum(1 for ago, _ in readings if ago < 7 * 24 * 60)
        assert sum(b[4] for b in result["buckets"]) == in_week
        assert min(b[1] for b in result["buckets"]) == 200.0 and max(b[2] for b in result["buckets"]) == 204.0


class TestOverHttp:
    @pytest.mark.parametrize("data, field, german", [
        ({"range": "1y"}, "range", 'Unbekannter Zeitraum „1y“'),
        ({"range": "24h", "points": "viele"}, "points", "points muss eine ganze Zahl"),
    ])
    def test_bad_input_gets_a_german_error(self, app, world, station, data, field, german):
        resource = station([(0, 100.0)])

        response = app.post("/api/3/action/pegel_series", json={"resource_id": resource["id"], **data},
                            status=409)

        assert german in response.json["error"][field][0]

    def test_a_missing_resource_id_is_named_and_an_unknown_one_is_not_found(self, app, world):
        response = app.post("/api/3/action/pegel_series", json={"range": "7d"}, status=409)
        assert response.json["error"]["resource_id"] == ["Fehlender Wert"]

        app.post("/api/3/action/pegel_series", json={"resource_id": str(uuid.uuid4()), "range": "7d"},
                 status=404)

    def test_a_resource_that_is_not_a_series_is_refused(self, app, world):
        dataset = factories.Dataset(owner_org=world["kusel"]["id"], user=world["sysadmin"],
                                    resources=[{"url": "http://example.org/data.csv", "name": "Tabelle"}])

        response = app.post("/api/3/action/pegel_series", status=409,
                            json={"resource_id": dataset["resources"][0]["id"], "range": "7d"})

        assert "keine Wasserstandsreihe" in response.json["error"]["resource_id"][0]

    def test_a_private_station_is_only_for_its_members(self, app, world, station):
        resource = station([(5, 120.0), (0, 121.0)], private=True)
        data = {"resource_id": resource["id"], "range": "24h"}

        app.post("/api/3/action/pegel_series", json=data, status=403)
        response = app.post("/api/3/action/pegel_series", json=data, status=200,
                            headers={"Authorization": world["member"]["token"]})

        assert [b[1] for b in response.json["result"]["buckets"]] == [120.0, 121.0]

    def test_get_works_for_the_polling_chart(self, app, world, station):
        resource = station([(0, 99.5)])

        response = app.get("/api/3/action/pegel_series", status=200,
                           query_string={"resource_id": resource["id"], "range": "30d"})

        assert response.json["result"]["buckets"][0][1] == 99.5
