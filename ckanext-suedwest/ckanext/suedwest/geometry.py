"""Areas as DCAT-AP.de publishes them: a bounding box and a centroid, never a free geometry.

The two shape sets a catalog must pass contradict each other on ``locn:geometry``: DCAT-AP.de 3.0 (EU
DCAT-AP 3.0.0) requires a node there, GovData's conventions on DCAT-AP.de 2.0 a literal. Both accept
``dcat:bbox`` and ``dcat:centroid`` literals, and ckanext-spatial's Solr backend indexes no more than a
bounding box anyway. So the schema stores an area as those two, and a geometry given through the API or
by a harvested catalog is reduced to them: a point becomes the centroid, anything else its bounding box and
centroid. Only the exact outline of a non-rectangular area is lost, and that is reported where it happens.
"""
import json

import shapely.geometry


def bbox_and_centroid(geojson: str) -> dict:
    """``{"bbox": ..., "centroid": ...}`` (GeoJSON strings) for a GeoJSON geometry; a point or a
    degenerate box (a straight north-south line, say) has no bbox."""
    shape = shapely.geometry.shape(json.loads(geojson))
    point = shape if shape.geom_type == "Point" else shape.centroid
    # 6 decimals of a degree are about 10 cm: enough for a centroid, without float noise
    result = {"centroid": json.dumps({"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]})}
    minx, miny, maxx, maxy = shape.bounds
    if minx < maxx and miny < maxy:
        box = shapely.geometry.box(minx, miny, maxx, maxy, ccw=True)
        result["bbox"] = json.dumps(_plain(shapely.geometry.mapping(box)))
    return result


def is_box(geojson: str) -> bool:
    """Whether the geometry is an axis-aligned rectangle."""
    shape = shapely.geometry.shape(json.loads(geojson))
    return shape.geom_type == "Polygon" and shape.equals(shape.envelope)


def is_exact(geojson: str) -> bool:
    """Whether bbox and centroid describe the geometry completely (a point or an axis-aligned rectangle)."""
    return json.loads(geojson).get("type") == "Point" or is_box(geojson)


def _plain(mapping):
    """shapely's mapping() holds tuples; GeoJSON (and the schema's stored form) uses lists."""
    return json.loads(json.dumps(mapping))
