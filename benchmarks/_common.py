"""Parts shared by the benchmarks: which test stack a configuration uses, the safety rules, loading CKAN
in-process, resetting the test database, seeding helpers, statistics and plain-text tables.

Safety rule (both benchmarks reset a database and clear a Solr index):

- the *effective* configuration counts: the ini file plus CKAN's environment overrides
  (``CKAN_SQLALCHEMY_URL``, ``CKAN_SOLR_URL``, ``CKAN_SITE_ID``, ... see ``CONFIG_FROM_ENV_VARS`` in
  ``ckan/config/environment.py``), which is how several people run tests on their own databases with one
  ``test.ini``;
- the database name and the Solr core name must both contain ``test`` (``ckan_test``, ``ckan_test_h3``);
- a running pytest process blocks a benchmark only if it uses the same stack: the same database (host, port,
  name) or the same Solr core *and* site id (CKAN's ``clear_index`` deletes only the documents of its own
  ``ckan.site_id``, so two site ids share a core safely). A pytest process's stack is read from its
  ``/proc/<pid>/environ`` (the ``CKAN_*`` overrides) and the ini of its command line (``--ckan-ini``,
  relative to its working directory; without one, this repository's ``test.ini``, as ``pyproject.toml``'s
  ``addopts`` sets). A process whose stack cannot be read counts as a conflict;
- two benchmark runs on the same database exclude each other through a PostgreSQL advisory lock held for
  the whole run (``hold_benchmark_lock``).
"""
from __future__ import annotations

import json
import logging
import math
import os
import secrets
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPOSITORY_ROOT / "test.ini"

# pg_try_advisory_lock key shared by all benchmarks ("SWBENCH" in ASCII): one benchmark per database.
BENCHMARK_LOCK_KEY = 0x53574245_4E4348


class CannotRun(Exception):
    """The benchmark cannot run (wrong configuration, a test run on the same stack, seeding failed)."""


def progress(message):
    """Progress goes to stderr so that stdout holds only the report (or the JSON)."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Which test stack a configuration uses
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stack:
    """What a benchmark or a test run writes to: the database and the Solr documents of one site id."""
    database: str      # host:port/name
    solr_core: str     # Solr URL without trailing slash
    site_id: str

    @property
    def database_name(self):
        return self.database.rsplit("/", 1)[-1]

    @property
    def solr_core_name(self):
        return self.solr_core.rsplit("/", 1)[-1]

    def conflicts_with(self, other):
        return self.database == other.database or (self.solr_core, self.site_id) == (other.solr_core,
                                                                                    other.site_id)

    def describe(self):
        return f"database {self.database_name}, Solr core {self.solr_core_name}, site id {self.site_id}"


def _database_identity(url):
    parts = urlsplit(url or "")
    host = parts.hostname or "localhost"
    if host in ("localhost", "::1"):
        host = "127.0.0.1"
    return f"{host}:{parts.port or 5432}/{parts.path.strip('/')}"


def effective_options(conf, environ=None):
    """The options CKAN ends up with: the ini values, overridden by the CKAN_* environment variables
    exactly as ckan.config.environment.update_config() does when the app is made."""
    from ckan.config.environment import CONFIG_FROM_ENV_VARS

    environ = os.environ if environ is None else environ
    options = dict(conf)
    for option, variable in CONFIG_FROM_ENV_VARS.items():
        if environ.get(variable):
            options[option] = environ[variable]
    return options


def stack_of(conf, environ=None):
    options = effective_options(conf, environ)
    return Stack(database=_database_identity(options.get("sqlalchemy.url")),
                 solr_core=(options.get("solr_url") or "").rstrip("/"),
                 site_id=options.get("ckan.site_id") or "default")


def check_is_test_stack(stack):
    """Refuse anything whose database or Solr core is not a test one (development data stays safe)."""
    if "test" not in stack.database_name or "test" not in stack.solr_core_name:
        raise CannotRun(
            f"refusing to reset {stack.describe()}: the benchmarks only run against a test stack (database "
            "and Solr core names containing 'test', see test.ini and the CKAN_* environment overrides)")


# --------------------------------------------------------------------------------------------------
# Running pytest processes and the stacks they use
# --------------------------------------------------------------------------------------------------

def own_process_ancestry():
    """This process and its parents (a shell whose command line mentions pytest is not a test run)."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after "(command)" state is the parent
    return pids


def is_pytest_command(argv):
    """pytest, py.test or python -m pytest, possibly behind a wrapper such as `timeout`."""
    names = [Path(arg).name for arg in argv]
    return (any(name in ("pytest", "py.test") for name in names)
            or any(arg == "-m" and following == "pytest" for arg, following in zip(argv, argv[1:])))


def _ckan_ini_argument(argv):
    for index, arg in enumerate(argv):
        if arg.startswith("--ckan-ini="):
            return arg.split("=", 1)[1]
        if arg == "--ckan-ini" and index + 1 < len(argv):
            return argv[index + 1]
    return None


def _read_environ(pid):
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def stack_of_process(pid, argv):
    """The stack a pytest process uses: its --ckan-ini (or test.ini) plus its CKAN_* environment."""
    from ckan.cli import CKANConfigLoader

    environ = _read_environ(pid)
    ini = _ckan_ini_argument(argv)
    cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    if ini is None:
        ini = cwd / "test.ini" if (cwd / "test.ini").exists() else DEFAULT_CONFIG
    ini = cwd / ini
    return stack_of(CKANConfigLoader(str(ini)).get_config(), environ)


def running_pytest_processes():
    """(pid, command line) of running pytest processes, this process's own ancestry excluded."""
    found, own = [], own_process_ancestry()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in own:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if is_pytest_command(argv):
            found.append((int(entry.name), [arg for arg in argv if arg]))
    return found


def conflicting_pytest_processes(stack):
    """Descriptions of the pytest processes that use the same database or Solr site as `stack`."""
    conflicts = []
    for pid, argv in running_pytest_processes():
        command = " ".join(argv)[:120]
        try:
            theirs = stack_of_process(pid, argv)
        except FileNotFoundError:
            continue  # the process ended meanwhile (its /proc entry is gone)
        except Exception as error:  # unreadable environment or ini: assume the worst
            conflicts.append(f"{pid}: {command} (its configuration is unreadable: {error})")
            continue
        if theirs.conflicts_with(stack):
            conflicts.append(f"{pid}: {command} ({theirs.describe()})")
    return conflicts


def make_pytest_guard(stack, force):
    """A function to call now and then: it stops the benchmark when a pytest run on the same stack starts.

    Both reset the same database; going on would spoil the figures and the tests. --force disables it.
    """
    def stop_if_pytest_runs():
        others = [] if force else conflicting_pytest_processes(stack)
        if others:
            raise CannotRun(f"a pytest process uses the same test stack ({stack.describe()}); wait for it "
                            "(or pass --force):\n  " + "\n  ".join(others))
    return stop_if_pytest_runs


@contextmanager
def hold_benchmark_lock(database_url):
    """Hold a PostgreSQL session advisory lock on the benchmark's database for the whole run, so that a
    second benchmark on the same database refuses instead of resetting it underneath the first."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    connection.autocommit = True  # no open transaction: resetting the tables is not blocked by this session
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (BENCHMARK_LOCK_KEY,))
            if not cursor.fetchone()[0]:
                raise CannotRun("another benchmark is running on this database (PostgreSQL advisory lock "
                                f"{BENCHMARK_LOCK_KEY} is taken)")
        yield
    finally:
        connection.close()  # releases the lock


# --------------------------------------------------------------------------------------------------
# Loading CKAN
# --------------------------------------------------------------------------------------------------

def load_configuration(config_path, overrides):
    """The ini (following `use = config:` chains) with `--set KEY=VALUE` overrides applied, and the test
    stack it will use (environment overrides included); refuses a stack that is not a test one."""
    from ckan.cli import load_config

    conf = load_config(config_path)
    for override in overrides:
        key, value = override.split("=", 1)
        conf[key.strip()] = value.strip()
    stack = stack_of(conf)
    check_is_test_stack(stack)
    return conf, stack


def load_ckan(conf, stack):
    """Load CKAN in this process like the ckan CLI does (conf from load_configuration).

    Returns the WSGI app (CKAN's middleware stack) and the effective sqlalchemy.url."""
    from ckan.config.middleware import make_app

    try:
        app = make_app(conf)
    except Exception as error:  # a schema that does not load yet, a plugin that fails, ...
        raise CannotRun(f"CKAN did not start with {conf.get('__file__')}: {type(error).__name__}: {error}") \
            from error
    from ckan.common import config
    loaded = stack_of(config, environ={})  # what CKAN really uses, its own overrides applied
    if loaded != stack:
        raise CannotRun(f"CKAN uses {loaded.describe()}, expected {stack.describe()}")
    return app, config["sqlalchemy.url"]


@contextmanager
def ckan_for_benchmark(arguments):
    """The start every benchmark shares: the safety checks on its configuration (--config, --set, --force),
    CKAN loaded in this process, and the benchmark lock on its database held until the block ends. Yields
    (app, stack, stop_if_pytest_runs)."""
    conf, stack = load_configuration(arguments.config, arguments.overrides)
    stop_if_pytest_runs = make_pytest_guard(stack, arguments.force)
    stop_if_pytest_runs()
    progress(f"Loading CKAN from {arguments.config} ({stack.describe()}) ...")
    app, database_url = load_ckan(conf, stack)
    quiet_logging(arguments.verbose)
    with hold_benchmark_lock(database_url):
        yield app, stack, stop_if_pytest_runs


def quiet_logging(verbose):
    """CKAN logs every commit and request at INFO; keep only warnings unless --verbose."""
    if verbose:
        return
    for name in ("ckan", "ckanext", "ckanext.dcat", "ckanext.scheming", "ckanext.spatial", "ckanext.harvest"):
        logging.getLogger(name).setLevel(logging.WARNING)


# --------------------------------------------------------------------------------------------------
# Resetting the test database and index; seeding helpers
# --------------------------------------------------------------------------------------------------

def reset_test_database_and_index():
    """Empty the test database and this site's Solr documents, like the clean_db and clean_index fixtures
    (search.clear_all deletes only the documents whose site_id is ckan.site_id)."""
    from sqlalchemy.orm import close_all_sessions
    from ckan import model
    from ckan.cli.db import _run_migrations  # what CKAN's migrate_db_for fixture calls
    import ckan.lib.search as search

    engine = model.meta.engine
    close_all_sessions()     # ckan.tests.helpers.reset_db() does this (deprecated spelling) ...
    model.repo.rebuild_db()  # ... and then this
    for plugin in ("activity", "harvest"):  # tables outside CKAN core, as in conftest.py
        _run_migrations(plugin, "head", True)
    # CKAN's migration environments bind the model to their own engine, which has no connection pool
    # (NullPool; ckan/migration/env.py calls init_model): without this, every later request of this process
    # would open a new database connection, a cost the server does not have.
    model.init_model(engine)
    search.clear_all()


def create_sysadmin(name):
    """The user the datasets are created as (the action API checks authorisation as for a real user)."""
    from ckan import model

    user = model.User(name=name, email=f"{name}@example.invalid",
                      password=secrets.token_urlsafe(24), sysadmin=True)
    model.Session.add(user)
    model.Session.commit()
    return user.name


@contextmanager
def batched_solr_commits():
    """Index every dataset without a Solr commit; the caller commits once at the end (wait_for_solr)."""
    from ckan.common import config

    previous = config.get("ckan.search.solr_commit")
    config["ckan.search.solr_commit"] = False
    try:
        yield
    finally:
        config["ckan.search.solr_commit"] = previous


def solr_count():
    """Datasets of this site in the index, private ones included."""
    import ckan.plugins.toolkit as tk

    return tk.get_action("package_search")({"ignore_auth": True},
                                           {"q": "*:*", "rows": 0, "include_private": True})["count"]


def wait_for_solr(expected, timeout=120):
    """Commit the Solr core once and wait until a search sees all datasets."""
    from ckan.lib.search.common import make_connection

    make_connection().commit(waitSearcher=True)
    deadline = time.monotonic() + timeout
    while True:
        found = solr_count()
        if found >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


class SqlStatementCounter:
    """Counts the SQL statements CKAN sends (and their time), to spot per-row database queries."""

    def __init__(self):
        from sqlalchemy import event
        from ckan.model import meta

        self.count = 0
        self.seconds = 0.0
        self._started = {}
        event.listen(meta.engine, "before_cursor_execute", self._before)
        event.listen(meta.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, *args):
        self.count += 1
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, *args):
        started = self._started.pop(id(cursor), None)
        if started is not None:
            self.seconds += time.perf_counter() - started


# --------------------------------------------------------------------------------------------------
# Statistics and tables
# --------------------------------------------------------------------------------------------------

def percentile(values, fraction):
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def format_table(columns, rows):
    """A plain-text table. columns: (header, format spec) pairs, e.g. ("p95 ms", ">7.1f"); a spec starting
    with "<" aligns left. A value of None prints as "n/a"; a str is printed as it is (aligned)."""
    widths = []
    for index, (header, spec) in enumerate(columns):
        cells = [_cell(row[index], spec) for row in rows]
        widths.append(max([len(header)] + [len(cell) for cell in cells]))
    lines = [" ".join(f"{header:{'<' if spec.startswith('<') else '>'}{width}}"
                      for (header, spec), width in zip(columns, widths)).rstrip()]
    for row in rows:
        lines.append(" ".join(f"{_cell(value, spec):{'<' if spec.startswith('<') else '>'}{width}}"
                              for value, (header, spec), width in zip(row, columns, widths)).rstrip())
    return "\n".join(lines)


def _cell(value, spec):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    return format(value, spec.lstrip("<>"))


def add_test_stack_arguments(parser, keep_data_help):
    """The options of a benchmark that runs CKAN in-process on the test stack (``ckan_for_benchmark``)."""
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="CKAN test configuration")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config option before CKAN starts (repeatable)")
    parser.add_argument("--keep-data", action="store_true", help=keep_data_help)
    parser.add_argument("--force", action="store_true", help="ignore pytest processes on the same stack")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the text report")
    parser.add_argument("--verbose", action="store_true", help="keep CKAN's INFO logging")


def measure_in_ckan(arguments, measure, *extra):
    """``measure(arguments, *extra, app, stop_if_pytest_runs)`` inside ``ckan_for_benchmark``, with the load
    average before and after (the figures of a busy machine are not comparable)."""
    with ckan_for_benchmark(arguments) as (app, _stack, stop_if_pytest_runs):
        load_before = os.getloadavg()[0]
        results = measure(arguments, *extra, app, stop_if_pytest_runs)
        results["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        return results


def run_main(name, arguments, run_benchmark, print_report):
    """What each benchmark's main() does: run from the repository root (test.ini's paths are relative to it),
    print the report or its JSON; exit status 2 when the benchmark cannot run, else 0 (a MISS is a figure)."""
    os.chdir(REPOSITORY_ROOT)
    try:
        results = run_benchmark(arguments)
    except CannotRun as error:
        print(f"{name}: cannot run: {error}", file=sys.stderr)
        return 2
    if arguments.json:
        json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print_report(results)
    return 0
