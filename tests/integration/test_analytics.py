"""Analytics over the real server: a store's history written into its tables, then its
numbers read through the API as JSON and as CSV, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx

from portside.services.context import Services
from tests.support.clients import login
from tests.support.factories import StoreFixture, make_store
from tests.support.history import write_sample_history
from tests.support.server import LiveServer

# The stores of the tests keep Shanghai time: 10:00 on 1 March 2026 there. The history
# (tests/support/history.py) spans that day and the next.
DAY1 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RANGE = {"from": "2026-03-01", "to": "2026-03-03"}


async def store_with_history(
    svc: Services, server: LiveServer
) -> tuple[StoreFixture, dict[str, int]]:
    store = await make_store(svc, origin=server.origin)
    agents = (store.agents[0]["id"], store.agents[1]["id"])
    ids = await svc.db.write(lambda conn: write_sample_history(conn, store.id, agents, DAY1))
    return store, ids


async def as_admin(server: LiveServer, store: StoreFixture) -> httpx.AsyncClient:
    return await login(server.base_url, store.agents[0]["email"], store.agents[0]["password"])


async def get(http: httpx.AsyncClient, path: str, **params: str) -> dict[str, Any]:
    response = await http.get(path, params={**RANGE, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_group(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["group"]: row for row in report["rows"]}


async def test_the_overview_has_the_stores_headline_numbers(
    svc: Services, server: LiveServer
) -> None:
    store, _ids = await store_with_history(svc, server)
    http = await as_admin(server, store)
    overview = await get(http, "/api/v1/analytics/overview")
    assert overview["timezone"] == "Asia/Shanghai"
    chats = overview["conversations"]
    assert (chats["conversations"], chats["handed_off"], chats["handoff_rate"]) == (4, 2, 0.5)
    assert (chats["resolved_by_bot"], chats["resolved_by_person"]) == (1, 1)
    assert (chats["time_to_handoff_p50_s"], chats["time_to_handoff_mean_s"]) == (20.0, 20.0)
    times = overview["response_times"]
    assert (times["bot_frt_n"], times["bot_frt_p50_s"]) == (3, 4.0)
    assert (times["human_frt_n"], times["human_frt_p50_s"]) == (2, 45.0)
    assert overview["csat"] == {
        "bot_ratings": 1, "bot_mean": 5.0, "bot_satisfied_share": 1.0,
        "human_ratings": 1, "human_mean": 4.0, "human_satisfied_share": 1.0,
    }  # fmt: skip
    conversion = overview["conversion"]
    assert (conversion["visitors"], conversion["chatted"], conversion["not_chatted"]) == (6, 4, 2)
    assert (conversion["chatted_converted"], conversion["not_chatted_converted"]) == (2, 1)
    assert overview["recovery"]["abandoned"] == overview["recovery"]["recovered_after_message"] == 1
    revenue = {(r["kind"], r["currency"]): (r["orders"], r["amount"]) for r in overview["revenue"]}
    assert revenue == {
        ("any", "EUR"): (2, "125.50"),
        ("any", "JPY"): (1, "5000.00"),
        ("conversation", "EUR"): (1, "100.00"),
        ("conversation", "JPY"): (1, "5000.00"),
        ("trigger", "EUR"): (1, "25.50"),
        ("coupon", "EUR"): (1, "25.50"),
    }
    assert overview["rules"] == {"fired": 2, "with_uplift": 0}
    await http.aclose()


async def test_reports_break_down_by_day_language_agent_and_rule(
    svc: Services, server: LiveServer
) -> None:
    store, ids = await store_with_history(svc, server)
    http = await as_admin(server, store)
    days = by_group(await get(http, "/api/v1/analytics/conversations", by="day"))
    assert {day: row["conversations"] for day, row in days.items()} == {
        "2026-03-01": 3,
        "2026-03-02": 1,
    }
    languages = by_group(await get(http, "/api/v1/analytics/conversations", by="language"))
    assert sorted(languages) == ["de", "es", "fr"]
    assert languages["es"]["conversations"] == 2

    agents = by_group(await get(http, "/api/v1/analytics/response_times", by="agent"))
    assert agents[str(ids["lena"])]["human_frt_p50_s"] == 60.0
    assert agents[str(ids["mei"])]["human_frt_p50_s"] == 30.0
    assert agents[str(ids["mei"])]["label"] == store.agents[0]["name"]

    uplift = await get(http, "/api/v1/analytics/uplift")
    assert uplift["by"] == "rule"
    rules = by_group(uplift)
    dress = rules[str(ids["dress"])]
    assert dress["label"] == "Linger on the dress"
    assert (dress["contacted"], dress["contacted_converted"], dress["held_out"]) == (1, 1, 1)
    assert dress["uplift"] == 1.0
    assert dress["status"] == "not_enough_data"
    assert rules[str(ids["welcome"])]["status"] == "no_holdout"

    revenue = await get(http, "/api/v1/analytics/revenue", by="rule")
    assert [(r["label"], r["currency"], r["amount"]) for r in revenue["rows"]] == [
        ("Linger on the dress", "EUR", "25.50")
    ]
    await http.aclose()


async def test_every_report_downloads_as_csv(svc: Services, server: LiveServer) -> None:
    store, _ids = await store_with_history(svc, server)
    http = await as_admin(server, store)
    for report in ("conversations", "response_times", "csat", "conversion", "recovery", "revenue"):
        as_json = await get(http, f"/api/v1/analytics/{report}")
        response = await http.get(f"/api/v1/analytics/{report}.csv", params=RANGE)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        table = list(csv.reader(io.StringIO(response.text)))
        assert table[0] == as_json["columns"]
        assert len(table) == 1 + len(as_json["rows"])
    response = await http.get("/api/v1/analytics/conversations.csv", params={**RANGE, "by": "day"})
    day_rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["group"], row["conversations"], row["handoff_rate"]) for row in day_rows] == [
        ("2026-03-01", "3", "0.6667"),
        ("2026-03-02", "1", "0.0"),
    ]
    await http.aclose()


async def test_an_empty_range_has_zeros_and_no_rates(svc: Services, server: LiveServer) -> None:
    store, _ids = await store_with_history(svc, server)
    http = await as_admin(server, store)
    overview = (
        await http.get(
            "/api/v1/analytics/overview", params={"from": "2025-01-01", "to": "2025-01-08"}
        )
    ).json()
    assert overview["conversations"]["conversations"] == 0
    assert overview["conversations"]["handoff_rate"] is None
    assert overview["revenue"] == []
    await http.aclose()


async def test_bad_ranges_reports_and_breakdowns_are_refused_clearly(
    svc: Services, server: LiveServer, store: StoreFixture
) -> None:
    http = await as_admin(server, store)
    cases = [
        ("/api/v1/analytics/overview", {"from": "2026-13-01", "to": "2026-03-01"}, "from"),
        ("/api/v1/analytics/overview", {"to": "2026-03-01"}, "from"),
        ("/api/v1/analytics/overview", {"from": "2026-03-08", "to": "2026-03-01"}, "to"),
        ("/api/v1/analytics/overview", {"from": "2025-01-01", "to": "2026-01-03"}, "to"),
        ("/api/v1/analytics/sales", RANGE, "report"),
        ("/api/v1/analytics/conversion", {**RANGE, "by": "agent"}, "by"),
        ("/api/v1/analytics/uplift.csv", {**RANGE, "by": "day"}, "by"),
    ]
    for path, params, field in cases:
        response = await http.get(path, params=params)
        assert response.status_code == 400, (path, params, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert error["details"][0]["field"] == field, error
    # A year and a day is the longest range.
    ok = await http.get(
        "/api/v1/analytics/overview", params={"from": "2025-01-01", "to": "2026-01-02"}
    )
    assert ok.status_code == 200, ok.text
    await http.aclose()


async def test_numbers_per_agent_are_for_supervisors_and_admins(
    svc: Services, server: LiveServer, store: StoreFixture
) -> None:
    agent = await login(server.base_url, store.agents[1]["email"], store.agents[1]["password"])
    refused = await agent.get("/api/v1/analytics/csat", params={**RANGE, "by": "agent"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    allowed = await agent.get("/api/v1/analytics/csat", params={**RANGE, "by": "day"})
    assert allowed.status_code == 200
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        response = await anonymous.get("/api/v1/analytics/overview", params=RANGE)
        assert response.status_code == 401
    await agent.aclose()


async def test_a_store_sees_only_its_own_numbers(svc: Services, server: LiveServer) -> None:
    store, _ids = await store_with_history(svc, server)
    other = await make_store(svc, origin=server.origin)
    mine = await as_admin(server, store)
    theirs = await as_admin(server, other)
    empty = await get(theirs, "/api/v1/analytics/overview")
    assert empty["conversations"]["conversations"] == 0
    assert empty["conversion"]["visitors"] == 0
    assert empty["revenue"] == []
    assert (await get(theirs, "/api/v1/analytics/uplift"))["rows"] == []
    # The first store's numbers are unchanged by the second store's existence.
    assert (await get(mine, "/api/v1/analytics/overview"))["conversations"]["conversations"] == 4
    await mine.aclose()
    await theirs.aclose()
