#!/usr/bin/env bash
# Start command of the Solr container: create the "ckan" core from the image's configset on the first
# start, and on every later start refresh the core's configuration from the image.
#
# Solr's "precreate" copies a configset into the data volume (/var/solr/data/ckan/conf) only when the
# core does not exist yet. Without the refresh, a rebuilt image (a changed schema after a CKAN upgrade
# or a change to config/solr/build_schema.py) would go on serving the schema of the volume's first
# start. The schema belongs to the image, the index to the volume. After a schema change, rebuild the
# index: `docker compose exec ckan ckan search-index rebuild` (see docker/README.md).
set -euo pipefail

configset="${SOLR_CONFIG_DIR:-/opt/solr/server/solr/configsets}/ckan"
core_conf=/var/solr/data/ckan/conf

if [ -d "$core_conf" ]; then
  if ! diff -q "$configset/conf/managed-schema" "$core_conf/managed-schema" >/dev/null 2>&1; then
    echo "[start-solr] the image's schema differs from the core's: updating the core's configuration" >&2
  fi
  cp -R "$configset/conf/." "$core_conf/"
fi

exec solr-precreate ckan "$configset"
