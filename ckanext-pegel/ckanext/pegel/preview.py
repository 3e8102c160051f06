"""The ``pegel_view`` resource view: a chart of a station's live series (job H1 fills this in)."""
TEMPLATE = "pegel/chart_view.html"


def info():
    return {"name": "pegel_view", "title": "Pegel", "icon": "chart-line", "iframed": False}


def can_view(data_dict):
    return False


def template_variables(data_dict):
    return {}
