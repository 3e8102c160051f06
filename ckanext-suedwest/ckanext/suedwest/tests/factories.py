"""factory_boy factories for DCAT-AP.de datasets (the schema requires a theme and a licence)."""
import factory

from ckan.tests import factories

ENVI = "http://publications.europa.eu/resource/authority/data-theme/ENVI"
DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
DL_ZERO = "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"


class Dataset(factories.Dataset):
    """The smallest dataset the schema accepts: title, description, theme, licence."""

    theme = factory.LazyFunction(lambda: [ENVI])
    license_id = DL_ZERO
