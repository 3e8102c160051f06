"""Platform core of the Südwest-Cluster bundle: DCAT-AP.de schema glue and RDF profile, German UI."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation
from ckanext.dcat.interfaces import IDCATRDFHarvester

from ckanext.suedwest import catalog_cache, harvest, licenses, search


@tk.blanket.actions
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.helpers
@tk.blanket.validators
class SuedwestPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(IDCATRDFHarvester, inherit=True)

    # IConfigurer

    def update_config(self, config):
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "suedwest")
        if not config.get("licenses_group_url"):
            config["licenses_group_url"] = licenses.LICENSES_FILE.as_uri()

    # IFacets

    def dataset_facets(self, facets_dict, package_type):
        """The EU data theme first (ckanext-tenant puts the municipality before it)."""
        return {search.THEME_FACET: tk._("Category"), **facets_dict}

    # IPackageController

    def before_dataset_index(self, pkg_dict):
        search.index_themes(pkg_dict)
        search.index_extent(pkg_dict)
        catalog_cache.prerender(pkg_dict)
        return pkg_dict

    def after_dataset_search(self, search_results, search_params):
        search.label_theme_facet(search_results)
        return search_results

    # IDCATRDFHarvester

    def before_create(self, harvest_object, dataset_dict, temp_dict):
        harvest.start_import(dataset_dict, temp_dict)

    def before_update(self, harvest_object, dataset_dict, temp_dict):
        harvest.start_import(dataset_dict, temp_dict)

    def after_create(self, harvest_object, dataset_dict, temp_dict):
        return harvest.end_import(harvest_object, temp_dict)

    def after_update(self, harvest_object, dataset_dict, temp_dict):
        return harvest.end_import(harvest_object, temp_dict)
