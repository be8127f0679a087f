# syntax=docker/dockerfile:1
# CareBridge: one image, three commands.
#
#   web (default):  gunicorn serving web.wsgi:app on port 8000
#   scheduler:      docker run ... IMAGE carebridge scheduler     (run one or more)
#   schema/deploy:  docker run ... IMAGE carebridge init          (once per release)
#
# Health: the one HEALTHCHECK runs `carebridge healthcheck`, which probes what suits the
# container's main command: GET /healthz for the web app (database included), the heartbeat
# a scheduler rewrites after each pass for `carebridge scheduler` (the same probe as
# `carebridge scheduler --check`), and nothing for `carebridge init`, which exits when done.
#
# Required: CAREBRIDGE_DATABASE_URL=postgresql+psycopg://user:password@host:5432/carebridge
#           CAREBRIDGE_SECRET_KEY=<long random string, the same for every web container>
# The web containers set CAREBRIDGE_SCHEDULER=off (the default here): timers are fired by
# the separate `carebridge scheduler` containers, which coordinate through the database.
#
# Both stages install from the same lock files as `make setup`: web/package-lock.json
# (npm ci) and constraints.txt (pip -c).

# ---------------------------------------------------------------- static assets ----------
FROM node:20-bookworm-slim AS assets
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
 && mkdir -p static/vendor/bpmn-js \
 && cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js static/vendor/bpmn-js/ \
 && cp -r node_modules/bpmn-js/dist/assets static/vendor/bpmn-js/assets

# ---------------------------------------------------------------- runtime ----------------
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CAREBRIDGE_SCHEDULER=off
RUN groupadd --system --gid 10001 carebridge \
 && useradd --system --uid 10001 --gid carebridge --home-dir /app --shell /usr/sbin/nologin carebridge
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY engine ./engine
COPY scheduler ./scheduler
COPY web ./web
COPY cli ./cli
COPY processes ./processes
COPY forms ./forms
COPY data ./data
COPY --from=assets /build/web/static/vendor ./web/static/vendor
# Installs every pinned dependency and the `carebridge` command. The code is installed once:
# editable, so it runs from this tree, where processes/, forms/, the templates and var/ live
# (engine.settings.ROOT), with no second copy in site-packages.
RUN pip install -c constraints.txt -e . \
 && mkdir -p /app/var \
 && chown carebridge:carebridge /app/var
USER carebridge
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["carebridge", "healthcheck"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "--access-logfile", "-", "web.wsgi:app"]
