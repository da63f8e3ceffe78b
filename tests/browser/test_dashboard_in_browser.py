"""The Dashboard in the console: a store with a week of history sees its numbers, the
charts drawn by the locally served chart library, a table downloaded as CSV, and an
empty range said to be empty."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.test_chat_in_browser import watch_for_errors
from tests.support.factories import make_store, services_for
from tests.support.history import write_sample_history
from tests.support.server import LiveServer


async def test_a_supervisor_reads_the_dashboard_and_downloads_a_table(
    browser: Browser, demo_server: LiveServer
) -> None:
    # A store of its own on the demo server, with two days of history in the last week.
    day1 = datetime.now(UTC) - timedelta(days=3)
    async with services_for(demo_server.database_url, demo_server.data_dir) as svc:
        store = await make_store(svc, origin=demo_server.origin)
        agents = (store.agents[0]["id"], store.agents[1]["id"])
        await svc.db.write(lambda conn: write_sample_history(conn, store.id, agents, day1))

    errors: list[str] = []
    context = await browser.new_context(
        accept_downloads=True, viewport={"width": 1400, "height": 1000}
    )
    desk = await context.new_page()
    watch_for_errors(desk, errors)  # CSP violations included
    await desk.goto(f"{demo_server.base_url}/console/")
    await desk.get_by_test_id("login-email").fill(store.agents[0]["email"])  # an admin
    await desk.get_by_test_id("login-password").fill(store.agents[0]["password"])
    await desk.get_by_test_id("login-submit").click()
    await desk.get_by_test_id("open-dashboard").click()

    view = desk.get_by_test_id("dashboard")
    await expect(view.get_by_test_id("range-7")).to_have_attribute("aria-pressed", "true")
    await expect(view.get_by_test_id("card-conversations")).to_contain_text("4")
    await expect(view.get_by_test_id("card-handoff-rate")).to_contain_text("50%")
    await expect(view.get_by_test_id("card-revenue")).to_contain_text("125.50 EUR")
    await expect(view.get_by_test_id("card-revenue")).to_contain_text("5000.00 JPY")
    for name in ("conversations", "response-times", "csat", "conversion", "revenue", "uplift"):
        await expect(view.get_by_test_id(f"chart-{name}")).to_have_attribute(
            "data-rendered", "true"
        )
    # Chart.js drew them, from /static/vendor: the seven days, four conversations.
    counts = await desk.evaluate(
        """() => Chart.getChart(document.querySelector('[data-chart=conversations] canvas'))
                 .data.datasets[0].data"""
    )
    assert len(counts) == 7
    assert sum(counts) == 4
    uplift_labels = await desk.evaluate(
        "() => Chart.getChart(document.querySelector('[data-chart=uplift] canvas')).data.labels"
    )
    assert uplift_labels == ["Linger on the dress (not enough data)"]

    table = view.get_by_test_id("table-conversations")
    await expect(table.locator("tbody tr")).to_have_count(7)
    async with desk.expect_download() as download_info:
        await table.get_by_test_id("csv-conversations").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("portside-conversations-by-day-")
    text = await asyncio.to_thread(Path(await download.path()).read_text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7
    assert sum(int(row["conversations"]) for row in rows) == 4

    # Broken down by agent instead (an admin may): Lena has both conversations people had.
    await table.get_by_test_id("by-conversations").select_option("agent")
    await expect(table.locator("tbody tr")).to_have_count(1)
    await expect(table).to_contain_text(store.agents[1]["name"])

    # A range long before the history: nothing to show, and said so.
    await view.get_by_test_id("range-from").fill("2020-01-01")
    await view.get_by_test_id("range-to").fill("2020-01-31")
    await view.get_by_test_id("range-apply").click()
    await expect(view.get_by_test_id("dashboard-empty")).to_be_visible()
    await expect(view.get_by_test_id("dashboard-range")).to_contain_text("2020-01-01 to 2020-01-31")
    assert errors == []
    await context.close()
