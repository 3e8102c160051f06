#!/usr/bin/env bash
# Entrypoint of every CKAN container (web, harvest consumers, harvest scheduler, jobs worker).
#
# 1. Checks that the configuration it needs is there and usable.
# 2. Waits for PostgreSQL, Solr and Redis (up to CKAN_WAIT_TIMEOUT seconds).
# 3. Only where CKAN_INIT=true (the web service): migrates the databases (`ckan db init`: core and
#    plugin migrations, idempotent), applies the DataStore permissions (`ckan datastore set-permissions`
#    piped to psql as the PostgreSQL superuser) and creates the sysadmin named in SYSADMIN_NAME.
#    It also builds the JavaScript translations into the storage volume (`ckan translation js`).
#    The other services start after the web service is healthy, so they never race the migrations.
# 4. Runs the command (gunicorn by default) in place of this script.
#
# The configuration is /srv/app/ckan.ini (CKAN_INI), baked into the image from docker/ckan.ini; it
# reads its values from CKAN_* environment variables, so nothing is rendered here.
set -Eeuo pipefail

CKAN_INI=${CKAN_INI:-/srv/app/ckan.ini}
export CKAN_INI
WAIT_TIMEOUT=${CKAN_WAIT_TIMEOUT:-180}

say() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

ckan_cli() { ckan -c "$CKAN_INI" "$@"; }

check_environment() {
  [ -r "$CKAN_INI" ] || die "configuration file $CKAN_INI is missing or unreadable"
  local name missing=()
  # Every variable that docker/ckan.ini interpolates.
  for name in CKAN_SITE_URL CKAN_SECRET_KEY CKAN_SECURE_COOKIES CKAN_SQLALCHEMY_URL CKAN_DATASTORE_WRITE_URL \
              CKAN_DATASTORE_READ_URL CKAN_SOLR_URL CKAN_REDIS_URL CKAN_PEGEL_MQTT_URL CKAN_STORAGE_PATH; do
    [ -n "${!name:-}" ] || missing+=("$name")
  done
  [ ${#missing[@]} -eq 0 ] || die "not set: ${missing[*]} (see docker/.env.example)"
  # CKAN's config loader interpolates every CKAN_* variable; a "%" in any of them breaks the whole file.
  for name in $(compgen -e); do
    if [[ $name == CKAN_* && ${!name} == *%* ]]; then
      die "$name contains '%', which CKAN's ini interpolation cannot take: choose a value without it"
    fi
  done
  [ -w "$CKAN_STORAGE_PATH" ] || die "storage path $CKAN_STORAGE_PATH is not writable by $(id -un) (uid $(id -u))"
}

# Polls PostgreSQL (the CKAN database), Solr (the core's ping handler) and Redis until all three
# answer, naming the ones that do not when the time is up.
wait_for_services() {
  python - "$WAIT_TIMEOUT" <<'PY'
import os
import sys
import time
import urllib.request

import psycopg2
import redis

timeout = int(sys.argv[1])


def postgres():
    psycopg2.connect(os.environ["CKAN_SQLALCHEMY_URL"], connect_timeout=5).close()


def solr():
    url = os.environ["CKAN_SOLR_URL"].rstrip("/") + "/admin/ping?wt=json"
    with urllib.request.urlopen(url, timeout=5) as response:
        if response.status != 200:
            raise OSError(f"HTTP {response.status}")


def redis_ping():
    redis.Redis.from_url(os.environ["CKAN_REDIS_URL"], socket_connect_timeout=5).ping()


checks = {"PostgreSQL": postgres, "Solr": solr, "Redis": redis_ping}
errors = {}
deadline = time.monotonic() + timeout
while checks:
    for name, check in list(checks.items()):
        try:
            check()
        except Exception as error:  # any failure means "not yet"
            errors[name] = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        else:
            print(f"[entrypoint] {name} is ready", file=sys.stderr)
            del checks[name]
    if not checks:
        break
    if time.monotonic() > deadline:
        for name in checks:
            print(f"[entrypoint] error: {name} not ready after {timeout} s: {errors.get(name)}", file=sys.stderr)
        sys.exit(1)
    time.sleep(2)
PY
}

# `ckan db init` runs the core migrations and those of every enabled plugin (harvest, activity, ...);
# on an up-to-date database it changes nothing.
migrate() {
  say "migrating the CKAN database (core and plugins)"
  ckan_cli db init
}

# The SQL comes from CKAN itself (it knows the database and role names from the three URLs) and must
# run as a superuser; the superuser's credentials are given to this service only (PG_ADMIN_*).
datastore_permissions() {
  if [ -z "${PG_ADMIN_PASSWORD:-}" ]; then
    say "PG_ADMIN_PASSWORD not set: DataStore permissions not applied (run 'ckan datastore set-permissions' yourself)"
    return
  fi
  say "applying the DataStore permissions"
  local sql
  sql=$(ckan_cli datastore set-permissions) || die "ckan datastore set-permissions failed"
  printf '%s\n' "$sql" | PGPASSWORD="$PG_ADMIN_PASSWORD" psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 \
    --host "${PG_ADMIN_HOST:-db}" --port "${PG_ADMIN_PORT:-5432}" --username "${PG_ADMIN_USER:-postgres}" \
    --dbname postgres >/dev/null || die "psql could not apply the DataStore permissions"
}

# Creates SYSADMIN_NAME (with SYSADMIN_EMAIL and SYSADMIN_PASSWORD) if it does not exist and makes it a
# sysadmin. Nothing happens when SYSADMIN_NAME is empty; an existing user's password is never changed.
# A user that cannot be created for want of an e-mail address or password is only warned about: the
# portal starts all the same, and a sysadmin can be added later (docker/README.md).
ensure_sysadmin() {
  local name=${SYSADMIN_NAME:-} admins user
  [ -n "$name" ] || return 0
  # Output captured first: `cmd | grep -q` can fail under pipefail when grep stops reading early.
  # CKAN user names are lower-case letters, digits, "-" and "_": no quoting needed in the patterns.
  admins=$(ckan_cli sysadmin list) || die "ckan sysadmin list failed"
  if grep -Eq "(^|[[:space:]])name=${name}([[:space:]]|$)" <<<"$admins"; then
    say "sysadmin '$name' exists"
    return
  fi
  user=$(ckan_cli user show "$name") || die "ckan user show failed"
  if ! grep -Eq "name=${name}([^a-z0-9_-]|$)" <<<"$user"; then
    if [ -z "${SYSADMIN_PASSWORD:-}" ] || [ -z "${SYSADMIN_EMAIL:-}" ]; then
      say "warning: user '$name' does not exist and SYSADMIN_EMAIL or SYSADMIN_PASSWORD is empty: no sysadmin created"
      return
    fi
    say "creating user '$name'"
    ckan_cli user add "$name" "email=${SYSADMIN_EMAIL}" "password=${SYSADMIN_PASSWORD}" >/dev/null \
      || die "could not create user '$name' (CKAN wants a password of at least 8 characters)"
  fi
  printf 'y\n' | ckan_cli sysadmin add "$name" >/dev/null || die "could not make '$name' a sysadmin"
  say "'$name' is a sysadmin"
}

main() {
  check_environment
  say "waiting for PostgreSQL, Solr and Redis (up to ${WAIT_TIMEOUT} s)"
  wait_for_services
  if [ "${CKAN_INIT:-false}" = "true" ]; then
    migrate
    datastore_permissions
    ensure_sysadmin
    # The German strings of the JavaScript modules (chart, dashboard) are served from the storage volume;
    # `ckan run` builds them at start, gunicorn does not.
    say "building the JavaScript translations"
    ckan_cli translation js >/dev/null || die "ckan translation js failed"
  fi
  # Secrets meant for the initialisation are not handed on to the long-running process.
  unset PG_ADMIN_PASSWORD SYSADMIN_PASSWORD
  say "starting: $*"
  exec "$@"
}

main "$@"
