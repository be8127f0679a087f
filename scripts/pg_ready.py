"""Exit 0 when the PostgreSQL server of the given SQLAlchemy URL answers, else 1."""

import sys

import psycopg
from sqlalchemy.engine import make_url

url = make_url(
    sys.argv[1] if len(sys.argv) > 1 else "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
try:
    psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        dbname=url.database,
        connect_timeout=3,
    ).close()
except psycopg.Error:
    sys.exit(1)
