"""A tiny harvester (test-only plugin) that proves jobs run through the real gather and fetch queues."""
import json

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckanext.harvest.interfaces import IHarvester
from ckanext.harvest.model import HarvestObject

# What the "remote feed" of this harvester holds: two datasets, no network involved.
FEED = [
    {"guid": "pegel-trier", "title": "Pegel Trier (Mosel)", "notes": "Wasserstand am Pegel Trier."},
    {"guid": "pegel-cochem", "title": "Pegel Cochem (Mosel)", "notes": "Wasserstand am Pegel Cochem."},
]


class StackTestHarvester(p.SingletonPlugin):
    p.implements(IHarvester)

    # IHarvester

    def info(self):
        return {"name": "suedwest_test", "title": "Stack test harvester", "description": "Test only"}

    def gather_stage(self, harvest_job):
        ids = []
        for record in FEED:
            harvest_object = HarvestObject(guid=record["guid"], job=harvest_job, content=json.dumps(record))
            harvest_object.save()
            ids.append(harvest_object.id)
        return ids

    def fetch_stage(self, harvest_object):
        return True

    def import_stage(self, harvest_object):
        record = json.loads(harvest_object.content)
        site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        # The harvest source is itself a dataset; its organisation owns what it harvests.
        # (A fresh context per action: package_show leaves the source in it for package_create to overwrite.)
        source = tk.get_action("package_show")({"user": site_user}, {"id": harvest_object.source.id})
        package = tk.get_action("package_create")(
            {"user": site_user},
            {"name": record["guid"], "title": record["title"], "notes": record["notes"],
             "owner_org": source["owner_org"],
             "theme": ["http://publications.europa.eu/resource/authority/data-theme/ENVI"],
             "license_id": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"},
        )
        harvest_object.package_id = package["id"]
        harvest_object.current = True
        harvest_object.save()
        return True
