"""Headless Chromium (Debian's package) against a live Portside with the demo store."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright

from portside.services.demo import DEMO_STORE_KEY
from tests.support.factories import (
    open_teams_around_the_clock,
    services_for,
    switch_off_trigger_rules,
)
from tests.support.fake_llm import FakeLlm, fake_llm
from tests.support.server import LiveServer, free_port

CHROMIUM = os.environ.get("PORTSIDE_TEST_CHROMIUM") or shutil.which("chromium") or ""
HAVE_CHROMIUM = bool(CHROMIUM) and os.path.exists(CHROMIUM)

pytestmark = pytest.mark.browser


def _demo_server(tmp_path_factory: pytest.TempPathFactory, agent: str) -> LiveServer:
    data_dir = tmp_path_factory.mktemp("demo")
    live = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        env={"PORTSIDE_LOGINS_PER_MINUTE": "1000", "PORTSIDE_AGENT": agent},
        port=free_port(),
    )
    subprocess.run(
        [sys.executable, "-m", "portside.cli", "demo", "--origin", live.origin],
        env=live.settings_env(),
        check=True,
        capture_output=True,
    )
    asyncio.run(_open_around_the_clock(live))
    live.start()
    return live


async def _open_around_the_clock(live: LiveServer) -> None:
    async with services_for(live.database_url, live.data_dir) as svc:
        await open_teams_around_the_clock(svc, DEMO_STORE_KEY)
        await switch_off_trigger_rules(svc, DEMO_STORE_KEY)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo store with people only: the AI agent is off."""
    live = _demo_server(tmp_path_factory, "off")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def bot_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo store as `make run` starts it, AI agent included."""
    live = _demo_server(tmp_path_factory, "embedded")
    yield live
    live.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    """An OpenAI-compatible endpoint a store's LLM settings can point at."""
    async with fake_llm() as endpoint:
        yield endpoint


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with _chromium() as browser:
        yield browser


@pytest.fixture
async def microphone_browser() -> AsyncIterator[Browser]:
    """Chromium with a fake microphone (it beeps). A context made with
    `permissions=["microphone"]` records it; any other is refused the microphone, as a
    shopper who said no. (`--use-fake-ui-for-media-stream` would allow every page.)"""
    async with _chromium(
        "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"
    ) as browser:
        yield browser


@contextlib.asynccontextmanager
async def _chromium(*args: str) -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail(
            "Browser tests need Chromium: install Debian's `chromium` package "
            "(apt-get install chromium) or set PORTSIDE_TEST_CHROMIUM to its path."
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *args],
        )
        try:
            yield browser
        finally:
            await browser.close()
