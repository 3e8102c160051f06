"""Sensor ingest: MQTT messages of the municipalities' own gauges into the stations' series tables.

``adapters`` read the message formats (The Things Stack v3, ChirpStack v4, SensorThings, plain JSON),
``mapping`` turns a device's uplink into a water level (sensors file), ``store`` writes batches into the
DataStore (also used by the PEGELONLINE poller), ``deadletter`` keeps what could not be ingested, and
``worker`` is the long-running MQTT client behind ``ckan pegel ingest``.
"""
