#!/usr/bin/env bash
# Writes the password file of the Mosquitto service, docker/mosquitto/passwd, with Mosquitto's own
# mosquitto_passwd (run in the eclipse-mosquitto image, so nothing needs installing on the host).
#
#   mosquitto/create-passwd.sh             (re)create the file with the user CKAN logs in as:
#                                          MQTT_USER / MQTT_PASSWORD from docker/.env
#   mosquitto/create-passwd.sh add NAME    add or change another user (a gateway, a sensor bridge);
#                                          asks for the password
#
# The file belongs to uid 1883 (the mosquitto user of the image) with mode 0600. After a change on a
# running broker: `docker compose kill -s HUP mosquitto` (Mosquitto rereads the file on SIGHUP).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
env_file="$here/../.env"
image=${MOSQUITTO_IMAGE:-eclipse-mosquitto:2}

die() { echo "error: $*" >&2; exit 1; }

# Reads KEY=value from docker/.env without executing it (surrounding quotes are removed).
env_value() {
  local value
  value=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$env_file" | tail -n 1)
  value=${value%\"}; value=${value#\"}; value=${value%\'}; value=${value#\'}
  printf '%s' "$value"
}

run_passwd() {  # run_passwd USER PASSWORD CREATE(yes|no)
  local create_flag=""
  [ "$3" = yes ] && create_flag="-c"
  docker run --rm -i -e MQTT_NAME="$1" -e MQTT_SECRET="$2" -e CREATE_FLAG="$create_flag" \
    -v "$here:/out" --entrypoint /bin/sh "$image" -c '
      set -e
      # shellcheck disable=SC2086
      mosquitto_passwd $CREATE_FLAG -b /out/passwd "$MQTT_NAME" "$MQTT_SECRET"
      chown 1883:1883 /out/passwd
      chmod 0600 /out/passwd'
}

case "${1:-}" in
  "")
    [ -f "$env_file" ] || die "$env_file is missing: copy docker/.env.example to docker/.env and fill it in first"
    user=$(env_value MQTT_USER)
    password=$(env_value MQTT_PASSWORD)
    [ -n "$user" ] || die "MQTT_USER is empty in $env_file"
    [ -n "$password" ] || die "MQTT_PASSWORD is empty in $env_file"
    run_passwd "$user" "$password" yes
    echo "wrote $here/passwd with user '$user'"
    ;;
  add)
    name=${2:-}
    [ -n "$name" ] || die "usage: $0 add NAME"
    [ -f "$here/passwd" ] || die "$here/passwd does not exist yet: run $0 without arguments first"
    read -r -s -p "password for '$name': " password; echo
    read -r -s -p "again: " again; echo
    [ "$password" = "$again" ] || die "the passwords differ"
    [ -n "$password" ] || die "empty password"
    run_passwd "$name" "$password" no
    echo "added '$name' to $here/passwd"
    ;;
  *)
    die "usage: $0 [add NAME]"
    ;;
esac
