"""Template helpers of ckanext-pegel (registered by the helpers blanket)."""
from ckanext.pegel import dashboard, warning_levels


def pegel_warning_level_inputs(value):
    """The texts of the four Meldestufen inputs of the resource form ("1" .. "4"), from the stored JSON or
    from what the steward just submitted."""
    return warning_levels.form_inputs(value)


# The Pegel dashboard (dashboard.py): formatting of the server-rendered station list and the main navigation.

def pegel_local_time(iso):
    """A reading's UTC time (ISO 8601) as German local time, ``24.11.2026, 06:54``."""
    return dashboard.local_time(iso)


def pegel_age(minutes):
    """The age of a reading in words ("vor 5 Min.")."""
    return dashboard.age(minutes)


def pegel_value(latest):
    """A reading's value with its unit in the page's language ("335,5 cm")."""
    return dashboard.value(latest)


def pegel_trend_arrow(trend):
    """An arrow for ``rising``, ``falling`` or ``steady`` (the label comes with the station)."""
    return dashboard.trend_arrow(trend)


def pegel_main_nav(nav):
    """The main navigation ``nav`` (HTML of the items) with "Pegel" after "Kommunen", or at its end."""
    return dashboard.main_nav(nav)
