"""Teams: a store's groups of agents with their business hours."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from portside.storage.tables import agents, teams


def insert_team(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(teams).values(**values).returning(teams.c.id))
    return int(result.scalar_one())


def find_team(conn: Connection, store_id: int, team_id: int) -> Row[Any] | None:
    query = select(teams).where(teams.c.id == team_id, teams.c.store_id == store_id)
    return conn.execute(query).first()


def list_teams(conn: Connection, store_id: int) -> list[Row[Any]]:
    query = select(teams).where(teams.c.store_id == store_id).order_by(teams.c.name, teams.c.id)
    return list(conn.execute(query).all())


def list_team_hours(conn: Connection, store_id: int) -> list[Any]:
    """What the opening rule needs of each team of the store."""
    query = (
        select(teams.c.id, teams.c.timezone, teams.c.hours, teams.c.holidays)
        .where(teams.c.store_id == store_id)
        .order_by(teams.c.id)
    )
    return list(conn.execute(query).all())


def update_team(conn: Connection, team_id: int, **values: Any) -> None:
    conn.execute(update(teams).where(teams.c.id == team_id).values(**values))


def delete_team(conn: Connection, store_id: int, team_id: int) -> bool:
    """Delete the team and take it out of its agents' lists of teams; False if there was
    no such team. Its conversations lose their team through the foreign key."""
    members = conn.execute(
        select(agents.c.id, agents.c.teams).where(agents.c.store_id == store_id)
    ).all()
    for member in members:
        listed = list(member.teams or [])
        if team_id in listed:
            kept = [t for t in listed if t != team_id]
            conn.execute(update(agents).where(agents.c.id == member.id).values(teams=kept))
    result = conn.execute(delete(teams).where(teams.c.id == team_id, teams.c.store_id == store_id))
    return bool(result.rowcount)
