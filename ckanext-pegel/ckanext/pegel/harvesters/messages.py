"""Messages of the PEGELONLINE harvester for the harvest job report (German through the ckanext-pegel catalogue).

They are translated when the problem is recorded (in the gather or fetch consumer, whose locale is the
site's default, ``de``) and stored with the job, where data stewards read them.
"""
import ckan.plugins.toolkit as tk

from ckanext.pegel import pegelonline


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


def empty_feed(url: str) -> str:
    return tk._("The server returned no stations ({url}); no dataset was withdrawn").format(url=url)


def not_accepted(guid: str, error: tk.ValidationError) -> str:
    summary = error.error_summary or error.error_dict
    details = ("; ".join(f"{key}: {value}" for key, value in summary.items()) if isinstance(summary, dict)
               else str(summary))
    return tk._("The dataset of station {uuid} was not accepted: {errors}").format(uuid=guid, errors=details)


def no_series_table(guid: str, error: Exception) -> str:
    return tk._("The live series table of station {uuid} could not be created: {error}").format(uuid=guid,
                                                                                               error=error)


def not_withdrawn(guid: str, error: Exception) -> str:
    return tk._("The dataset of station {uuid} could not be withdrawn: {error}").format(uuid=guid, error=error)
