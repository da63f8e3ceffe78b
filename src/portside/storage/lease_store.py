"""Leases on jobs that one node of several runs at a time (tables.job_leases).

A lease is a row: the job's name, the node that holds it, and until when. Taking and
renewing are one statement that only succeeds while the lease is free, lapsed, or
already the taker's, so of several nodes exactly one holds it at any moment; the row is
inserted on first use, and of two nodes inserting it at once the unique name lets one
in. A node that dies stops renewing, and the lease lapses by itself at `until`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import job_leases


def take_lease(conn: Connection, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Take the lease `name` for `owner` until `until`, or renew it: True if `owner`
    holds it now, False if another node does."""
    renewed = conn.execute(
        update(job_leases)
        .where(
            job_leases.c.name == name,
            or_(job_leases.c.owner == owner, job_leases.c.until <= now),
        )
        .values(owner=owner, until=until)
    )
    if renewed.rowcount:
        return True
    # No row yet (the job's first run anywhere), or another node holds it. ON CONFLICT
    # DO NOTHING settles two first takers without an error that would end the
    # transaction on PostgreSQL.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(job_leases)
        .values(name=name, owner=owner, until=until)
        .on_conflict_do_nothing(index_elements=[job_leases.c.name])
    )
    return bool(inserted.rowcount)


def release_lease(conn: Connection, name: str, owner: str, now: datetime) -> bool:
    """Let go of the lease if `owner` holds it, so that another node takes it at its
    next try rather than when it lapses; False if `owner` did not hold it."""
    result = conn.execute(
        update(job_leases)
        .where(job_leases.c.name == name, job_leases.c.owner == owner, job_leases.c.until > now)
        .values(until=now)
    )
    return bool(result.rowcount)


def find_lease(conn: Connection, name: str) -> Row[Any] | None:
    """The lease's row (name, owner, until), held or lapsed; None before its first use."""
    return conn.execute(select(job_leases).where(job_leases.c.name == name)).first()


def list_leases(conn: Connection) -> list[Row[Any]]:
    """Every lease, by name: what each node runs for the others (operators' view)."""
    return list(conn.execute(select(job_leases).order_by(job_leases.c.name)).all())
