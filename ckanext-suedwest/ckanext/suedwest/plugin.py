"""Platform core of the Südwest-Cluster bundle: German UI, DCAT-AP.de glue, data protection, health."""
import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.config_declarations
class SuedwestPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)

    # IConfigurer

    def update_config(self, config):
        tk.add_template_directory(config, "templates")
