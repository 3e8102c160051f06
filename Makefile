# The three commands of the bundle's local stack (see README.md). No Docker engine needed.
PYTHON ?= python3
STACK = $(PYTHON) scripts/stack.py

.PHONY: setup run services stop status test reset

setup:          ## install packages, Solr, databases, config and a sysadmin (idempotent)
	bash scripts/setup.sh

run:            ## start PostgreSQL, Solr, Redis, Mosquitto, CKAN, harvest consumers and the jobs worker
	$(STACK) start

services:       ## start only PostgreSQL, Solr, Redis and Mosquitto
	$(STACK) start --services

stop:           ## stop everything the project started
	$(STACK) stop

status:         ## which service is up
	$(STACK) status

test: services  ## run the whole test suite against the real services
	.venv/bin/pytest $(PYTEST_ARGS)

reset: stop     ## delete all local state (databases, index, logs) and set up again
	rm -rf var
	$(MAKE) setup
