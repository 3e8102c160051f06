"""ckanext-scheming schemas, presets and code lists of the bundle (YAML files beside this one)."""
