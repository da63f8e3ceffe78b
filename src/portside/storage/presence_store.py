"""Who is here, whichever node they are on: visitors' `online_until`, and the end of an
agent's `presence_until` (services/visitor_presence.py, services/presence.py).

Each node renews the rows of the people connected to it. Ending one is conditional: a
node ends what it wrote itself, not what another node wrote after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, select, update

from portside.storage.tables import agents, visitors

# One statement renews at most this many rows: a short lock on SQLite's one writer, and
# a bound list PostgreSQL plans quickly (a node may hold 10,000 shoppers).
RENEW_CHUNK = 1000

_SET_ONLINE = (
    update(visitors)
    .where(visitors.c.id == bindparam("visitor_id"))
    .values(online_until=bindparam("until"))
)

_END_ONLINE = (
    update(visitors)
    .where(
        visitors.c.id == bindparam("visitor_id"),
        visitors.c.online_until > bindparam("now"),
        visitors.c.online_until <= bindparam("written"),
    )
    .values(online_until=bindparam("now"))
)

_END_PRESENCE = (
    update(agents)
    .where(
        agents.c.id == bindparam("agent_id"),
        agents.c.presence_until > bindparam("now"),
        agents.c.presence_until <= bindparam("written"),
    )
    .values(presence_until=bindparam("now"))
)


def set_visitor_online(conn: Connection, visitor_id: int, until: datetime) -> None:
    conn.execute(_SET_ONLINE, {"visitor_id": visitor_id, "until": until})


def renew_visitors_online(
    conn: Connection, *, ids: list[int], until: datetime, now: datetime
) -> None:
    """One UPDATE … WHERE id IN (…) for up to RENEW_CHUNK visitors: online until
    `until`, and seen `now` (a widget is open)."""
    if len(ids) > RENEW_CHUNK:
        raise ValueError(f"renew at most {RENEW_CHUNK} visitors in one statement")
    statement = update(visitors).where(visitors.c.id.in_(ids))
    conn.execute(statement.values(online_until=until, last_seen_at=now))


def end_visitor_online(
    conn: Connection, visitor_id: int, *, written: datetime, now: datetime
) -> bool:
    """End the visitor's online state unless a node wrote a later one than `written`
    (the latest this node wrote). True if it ended."""
    result = conn.execute(_END_ONLINE, {"visitor_id": visitor_id, "written": written, "now": now})
    return bool(result.rowcount)


def find_visitor_online_until(conn: Connection, store_id: int, visitor_id: int) -> datetime | None:
    query = select(visitors.c.online_until).where(
        and_(visitors.c.id == visitor_id, visitors.c.store_id == store_id)
    )
    value: datetime | None = conn.execute(query).scalar_one_or_none()
    return value


def end_agent_presence(
    conn: Connection, agent_id: int, *, written: datetime, now: datetime
) -> bool:
    """End the agent's presence unless a node renewed it later than `written` (the
    latest this node wrote). True if it ended."""
    result = conn.execute(_END_PRESENCE, {"agent_id": agent_id, "written": written, "now": now})
    return bool(result.rowcount)
