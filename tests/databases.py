"""Real databases for integration tests: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL is found at ``STRIDEWATCH_TEST_PG`` (default: the local server on
127.0.0.1:5432, trust auth). Without one, the test fails and says how to get one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

PG_ADMIN = os.environ.get("STRIDEWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_HINT = (
    "PostgreSQL is not reachable at {url} ({error}). Start it (Debian: "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or point "
    "STRIDEWATCH_TEST_PG at a server where this user may CREATE DATABASE."
)


@contextlib.contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new database for one test (empty, or a copy of the database ``template``), dropped afterwards."""
    import psycopg

    name = f"sw_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(PG_HINT.format(url=PG_ADMIN, error=exc)) from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
