"""Health checks of the CKAN containers (used by docker-compose.yml; exit 0 = healthy).

    healthcheck.py web                  the web app answers /api/3/action/status_show with success
    healthcheck.py process PATTERN      a process whose command line contains PATTERN runs, and Redis answers
    healthcheck.py heartbeat FILE SECS  FILE was touched less than SECS seconds ago, and Redis answers
"""
import json
import os
import sys
import time
import urllib.request


def web() -> str:
    url = "http://127.0.0.1:5000/api/3/action/status_show"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    if not body.get("success"):
        raise RuntimeError(f"status_show answered {body!r}")
    return f"CKAN {body['result'].get('ckan_version')} answers"


def redis_ping() -> None:
    import redis

    redis.Redis.from_url(os.environ["CKAN_REDIS_URL"], socket_connect_timeout=5, socket_timeout=5).ping()


def process(pattern: str) -> str:
    own = os.getpid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == own:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in command and "healthcheck.py" not in command:
            redis_ping()
            return f"pid {pid} runs {command.strip()!r}; Redis answers"
    raise RuntimeError(f"no process matching {pattern!r}")


def heartbeat(path: str, max_age: str) -> str:
    age = time.time() - os.stat(path).st_mtime
    if age > float(max_age):
        raise RuntimeError(f"{path} is {age:.0f} s old (limit {max_age} s)")
    redis_ping()
    return f"last heartbeat {age:.0f} s ago; Redis answers"


def main(argv) -> int:
    checks = {"web": web, "process": process, "heartbeat": heartbeat}
    if len(argv) < 2 or argv[1] not in checks:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(checks[argv[1]](*argv[2:]))
    except Exception as error:  # any failure means unhealthy; say why (shown by `docker inspect`)
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
