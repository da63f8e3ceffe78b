"""Teams over the REST API: every agent reads them with whether they are open, admins
create, change and delete them, wrong hours are named field by field, and a deleted
team leaves no trace on its agents and conversations."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update

from portside.services.context import Services
from portside.storage import conversation_store, store_store
from portside.storage.tables import conversations
from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer

ALL_WEEK = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


async def http_for(server: LiveServer, store: StoreFixture, n: int) -> httpx.AsyncClient:
    return await login(server.base_url, store.agents[n]["email"], store.agents[n]["password"])


async def test_admins_create_and_change_teams_and_every_agent_reads_them(
    server: LiveServer, store: StoreFixture
) -> None:
    admin, agent = await http_for(server, store, 0), await http_for(server, store, 1)
    try:
        created = await admin.post("/api/v1/teams", json={"name": " Night desk "})
        assert created.status_code == 201
        team = created.json()
        # The store's time zone, no hours (always open), no holidays.
        assert team == {
            "id": team["id"],
            "name": "Night desk",
            "timezone": "Asia/Shanghai",
            "hours": None,
            "holidays": [],
            "open_now": True,
            "next_opening": None,
        }
        changed = await admin.patch(
            f"/api/v1/teams/{team['id']}",
            json={
                "timezone": "Europe/Madrid",
                "hours": {"sat": [["10:00", "14:00"]], "mon": [["9:00", "18:00"]]},
                "holidays": ["2027-01-06", "2026-12-25"],
            },
        )
        assert changed.status_code == 200
        body = changed.json()
        assert body["name"] == "Night desk"
        assert body["hours"]["mon"] == [["09:00", "18:00"]]
        assert body["hours"]["sun"] == []
        assert body["holidays"] == ["2026-12-25", "2027-01-06"]
        assert isinstance(body["open_now"], bool)
        assert (body["next_opening"] is None) is body["open_now"]

        listed = (await agent.get("/api/v1/teams")).json()["teams"]
        assert [t["name"] for t in listed] == ["Night desk"]
        one = await agent.get(f"/api/v1/teams/{team['id']}")
        assert one.json()["hours"] == body["hours"]

        always = await admin.patch(f"/api/v1/teams/{team['id']}", json={"hours": None})
        assert always.json()["open_now"] is True
        assert always.json()["timezone"] == "Europe/Madrid"  # untouched

        around = await admin.post(
            "/api/v1/teams", json={"name": "Everyone", "hours": ALL_WEEK, "timezone": "UTC"}
        )
        assert around.json()["open_now"] is True
    finally:
        await admin.aclose()
        await agent.aclose()


async def test_wrong_teams_are_refused_with_their_fields_and_codes(
    server: LiveServer, store: StoreFixture
) -> None:
    admin, agent = await http_for(server, store, 0), await http_for(server, store, 1)
    other = await make_store_http(server, store)
    try:
        wrong = await admin.post(
            "/api/v1/teams",
            json={
                "name": "Care",
                "hours": {"mon": [["09:00", "25:00"]], "tue": [["18:00", "09:00"]]},
            },
        )
        assert wrong.status_code == 400
        error = wrong.json()["error"]
        assert error["code"] == "invalid_request"
        assert [d["field"] for d in error["details"]] == ["hours.mon[0]", "hours.tue[0]"]
        assert error["message"].startswith("hours.mon[0]: '25:00' is not a time")

        for body, field in [
            ({"name": "Care", "timezone": "Europe/Madird"}, "timezone"),
            ({"name": "Care", "holidays": ["2026-13-01"]}, "holidays[0]"),
            ({"name": "Care", "hours": {"someday": []}}, "hours.someday"),
            ({"name": "", "hours": None}, "name"),
            ({"name": "Care", "colour": "blue"}, "colour"),
            (["Care"], "body"),
        ]:
            refused = await admin.post("/api/v1/teams", json=body)
            assert refused.status_code == 400, body
            assert refused.json()["error"]["details"][0]["field"] == field

        forbidden = await agent.post("/api/v1/teams", json={"name": "Mine"})
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["code"] == "forbidden"

        first = await admin.post("/api/v1/teams", json={"name": "Care"})
        assert first.status_code == 201
        again = await admin.post("/api/v1/teams", json={"name": "Care"})
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "conflict"
        team_id = first.json()["id"]
        assert (await agent.delete(f"/api/v1/teams/{team_id}")).status_code == 403
        assert (await agent.patch(f"/api/v1/teams/{team_id}", json={})).status_code == 403

        # Another store's team does not exist here.
        assert (await other.get(f"/api/v1/teams/{team_id}")).status_code == 404
        assert (await other.patch(f"/api/v1/teams/{team_id}", json={})).status_code == 404
        assert (await other.delete(f"/api/v1/teams/{team_id}")).status_code == 404
        assert (await admin.get("/api/v1/teams")).json()["teams"][0]["name"] == "Care"
    finally:
        for client in (admin, agent, other):
            await client.aclose()


async def make_store_http(server: LiveServer, store: StoreFixture) -> httpx.AsyncClient:
    """An admin of another store."""
    async with services_for(server.database_url, server.data_dir) as svc:
        other = await make_store(svc, origin=store.origin)
    return await http_for(server, other, 0)


async def test_a_deleted_team_leaves_its_agents_and_its_conversations(
    server: LiveServer, store: StoreFixture, svc: Services
) -> None:
    admin = await http_for(server, store, 0)
    try:
        care = (await admin.post("/api/v1/teams", json={"name": "Care"})).json()["id"]
        sales = (await admin.post("/api/v1/teams", json={"name": "Sales"})).json()["id"]
        agent_id = store.agents[1]["id"]
        async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
            await shopper.expect("welcome")
            await shopper.send(type="message.send", client_id=client_id(), text="hello")
            conversation_id = (await shopper.expect("ack"))["conversation_id"]

        def place(conn: Any) -> None:
            store_store.update_agent(conn, agent_id, teams=[care, sales])
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(team_id=care)
            )

        await svc.db.write(place)

        assert (await admin.delete(f"/api/v1/teams/{care}")).status_code == 204
        assert (await admin.delete(f"/api/v1/teams/{care}")).status_code == 404

        def look(conn: Any) -> tuple[Any, Any]:
            return (
                store_store.find_agent(conn, agent_id),
                conversation_store.find_conversation(conn, store.id, conversation_id),
            )

        agent, conversation = await svc.db.read(look)
        assert agent.teams == [sales]
        assert conversation.team_id is None
        assert [t["name"] for t in (await admin.get("/api/v1/teams")).json()["teams"]] == ["Sales"]
    finally:
        await admin.aclose()
