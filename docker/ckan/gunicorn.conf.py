"""Gunicorn settings of the CKAN web service; the numbers can be tuned from the environment (.env)."""
import os

wsgi_app = "wsgi:application"
chdir = "/srv/app"
bind = "0.0.0.0:5000"

# Processes, not threads, by default: each worker builds its own CKAN app and database pool.
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so that slow memory growth in a long-lived process stays bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = 100

# Trust X-Forwarded-Proto/-For only from the reverse proxy in front of the published port.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs to stdout/stderr, where `docker compose logs` reads them. The access log leaves out the
# client address and the query string: Datenschutz first (see docs/architecture.md).
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "true").lower() == "true" else None
access_log_format = '"%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
