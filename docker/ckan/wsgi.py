"""WSGI entry point of the CKAN web service (gunicorn loads ``wsgi:application``).

The CKAN 2.11 wheel ships no WSGI module (the source tree's ``wsgi.py`` is not packaged), so the image
carries this one. It does what ``ckan run`` does before serving: load the ini named by ``CKAN_INI``
(following its ``use = config:...`` chain, with the ``CKAN_*`` environment variables available for
``%(CKAN_...)s`` interpolation), configure logging from it, and build the Flask application.
"""
import os

from ckan.cli import load_config
from ckan.config.middleware import make_app

application = make_app(load_config(os.environ.get("CKAN_INI", "/srv/app/ckan.ini")))
