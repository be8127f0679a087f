"""The WSGI entry point for production servers: `gunicorn web.wsgi:app`.

Settings come from CAREBRIDGE_* variables. Timers are not run here: start one or more
`carebridge scheduler` processes beside the web workers (set CAREBRIDGE_SCHEDULER=off).
"""

from __future__ import annotations

from web import create_app

# All workers must sign sessions with one key: CAREBRIDGE_SECRET_KEY, or else the key that
# load_settings() generates once and keeps in var/secret-key (shared by the workers of one
# install; set the variable when several hosts serve the app).
app = create_app()
