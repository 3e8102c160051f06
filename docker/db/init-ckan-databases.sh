#!/usr/bin/env bash
# First-start initialisation of the PostgreSQL container (run by the postgres image from
# /docker-entrypoint-initdb.d/ only while the data volume is empty).
#
# The same layout as the local stack (scripts/stack.py, create_databases):
#   role ckan_default       (CKAN_DB_PASSWORD)       owns ckan_default and datastore_default, writes both
#   role datastore_default  (DATASTORE_RO_PASSWORD)  reads the DataStore only
# The read-only role's permissions inside datastore_default are applied by the CKAN web container on
# every start (`ckan datastore set-permissions`, see docker/ckan/entrypoint.sh), because CKAN writes that SQL.
# Passwords go in as psql variables (:'name'), so any character in them is quoted correctly.
set -euo pipefail

: "${CKAN_DB_PASSWORD:?CKAN_DB_PASSWORD must be set for the db service}"
: "${DATASTORE_RO_PASSWORD:?DATASTORE_RO_PASSWORD must be set for the db service}"

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  --set=ckan_password="$CKAN_DB_PASSWORD" --set=datastore_ro_password="$DATASTORE_RO_PASSWORD" <<'SQL'
CREATE ROLE ckan_default WITH LOGIN PASSWORD :'ckan_password';
CREATE ROLE datastore_default WITH LOGIN PASSWORD :'datastore_ro_password';
CREATE DATABASE ckan_default OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE datastore_default OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0;
SQL

echo "[init] created roles ckan_default, datastore_default and databases ckan_default, datastore_default"
