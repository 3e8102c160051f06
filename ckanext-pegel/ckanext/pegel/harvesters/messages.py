"""Messages of the PEGELONLINE harvester for the harvest job report (German through the ckanext-pegel catalogue).

They are translated when the problem is recorded and stored with the job, where data stewards read them.
The gather and fetch consumers run outside any web request, where ``_()`` does not translate; there the
messages are translated in the request context CKAN keeps for work outside requests (the one ``url_for``
uses), that is in the site's default locale (``ckan.locale_default``).
"""
import contextlib
import functools

import flask

import ckan.plugins.toolkit as tk

from ckanext.pegel import pegelonline


@contextlib.contextmanager
def site_locale():
    """Translate in the site's default locale when outside a web request."""
    from ckan.config.middleware import _internal_test_request_context as context

    if flask.has_request_context() or context is None:
        yield
        return
    with context:
        yield


def _in_site_locale(message):
    @functools.wraps(message)
    def translated(*args, **kwargs):
        with site_locale():
            return message(*args, **kwargs)
    return translated


@_in_site_locale
def feed_error(error: pegelonline.FeedError, timeout: float) -> str:
    if error.reason == "timeout":
        return tk._("The server did not answer within {seconds} s: {url}").format(seconds=f"{timeout:g}",
                                                                                  url=error.url)
    if error.reason == "connection":
        return tk._("The server could not be reached: {url} ({error})").format(url=error.url, error=error.detail)
    if error.reason == "status":
        return tk._("The server answered {url} with HTTP status {status}").format(url=error.url,
                                                                                  status=error.detail)
    if error.reason == "json":
        return tk._("The server's answer to {url} is not valid JSON: {error}").format(url=error.url,
                                                                                       error=error.detail)
    return tk._("The server's answer to {url} is not a list of stations").format(url=error.url)


@_in_site_locale
def station_error(guid: str, error: pegelonline.StationError) -> str:
    problems = {
        "missing": tk._("missing"),
        "not a number": tk._("not a number"),
        "not a text": tk._("not a text"),
        "not a list": tk._("not a list"),
        "not an object": tk._("not an object"),
        "outside WGS 84": tk._("outside WGS 84"),
        "missing shortname": tk._("short name missing"),
        "missing or not a UUID": tk._("missing or not a UUID"),
    }
    return tk._("The record of station {uuid} is broken ({field}: {problem}) and was skipped; its dataset "
                "stays as it was").format(uuid=guid, field=error.field,
                                          problem=problems.get(error.problem, error.problem))


@_in_site_locale
def empty_feed(url: str) -> str:
    return tk._("The server returned no stations ({url}); no dataset was withdrawn").format(url=url)


@_in_site_locale
def not_accepted(guid: str, error: tk.ValidationError) -> str:
    summary = error.error_summary or error.error_dict
    details = ("; ".join(f"{key}: {value}" for key, value in summary.items()) if isinstance(summary, dict)
               else str(summary))
    return tk._("The dataset of station {uuid} was not accepted: {errors}").format(uuid=guid, errors=details)


@_in_site_locale
def not_saved(guid: str, error: Exception) -> str:
    return tk._("The dataset of station {uuid} could not be saved: {error}").format(uuid=guid, error=error)


@_in_site_locale
def no_series_table(guid: str, error: Exception) -> str:
    return tk._("The live series table of station {uuid} could not be created: {error}").format(uuid=guid,
                                                                                               error=error)


@_in_site_locale
def not_withdrawn(guid: str, error: Exception) -> str:
    return tk._("The dataset of station {uuid} could not be withdrawn: {error}").format(uuid=guid, error=error)


@_in_site_locale
def no_uuid(number: int) -> str:
    return tk._("Station record no. {number} has no valid UUID and was skipped").format(number=number)


@_in_site_locale
def listed_twice(guid: str) -> str:
    return tk._("Station {uuid} is listed twice; the first record was used").format(uuid=guid)
