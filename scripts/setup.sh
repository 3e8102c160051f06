#!/usr/bin/env bash
# `make setup`: from a bare Debian 12 machine to a ready stack. Safe to run again: every step
# checks what is already there, and nothing that holds data is recreated.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
# Debian packages: the services, Java and Maven for Solr, build dependencies of the Python stack,
# and Chromium for the browser tests, with fonts for its screenshots (installed without recommends,
# Chromium would not bring fonts-liberation, the Arial/Helvetica metrics CKAN's CSS asks for).
PACKAGES=(
  postgresql postgresql-contrib libpq-dev redis-server mosquitto mosquitto-clients
  openjdk-17-jdk-headless maven
  python3 python3-venv python3-dev build-essential git
  libxml2-dev libxslt1-dev libgeos-dev libproj-dev libmagic1
  iproute2 procps ca-certificates curl chromium fonts-liberation fonts-dejavu-core
)
# npm vendors the chart and map libraries into the assets. A Node.js from elsewhere (NodeSource, nvm)
# brings its own npm, and Debian's npm package would conflict with it: ask for Debian's only without one.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

say() { echo "[setup] $*"; }

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  # Debian starts PostgreSQL, Redis and Mosquitto on their default ports when installed;
  # the stack runs its own instances under var/, so keep the system ones from starting.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  say "creating the virtualenv .venv"
  "$PYTHON" -m venv .venv
fi
say "installing the pinned Python stack (constraints.txt)"
.venv/bin/pip install -q --upgrade "pip>=24" "setuptools>=64" wheel
.venv/bin/pip install -q -c constraints.txt -e '.[test]'

.venv/bin/python scripts/vendor_assets.py
.venv/bin/python scripts/stack.py setup
