"""Setting up a chat on a cluster: a store on its database, clients that close with the
test, and matchers for the events a test waits for."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx

from portside.services.context import Services
from tests.support.clients import login
from tests.support.cluster import Cluster
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.resuming import Frame, ResumingClient

# The shop's pages: the widget's Origin (any node accepts it; the store allows it).
SHOP = "https://shop.example"

C = TypeVar("C", bound=ResumingClient)


@contextlib.asynccontextmanager
async def store_on(
    cluster: Cluster, *, agents: int = 2
) -> AsyncIterator[tuple[Services, StoreFixture, contextlib.AsyncExitStack]]:
    """A new store on the cluster's database, and a stack that closes the clients and
    HTTP sessions a test opens, whatever happens in it."""
    async with (
        services_for(cluster.database_url, cluster.nodes[0].data_dir) as svc,
        contextlib.AsyncExitStack() as stack,
    ):
        store = await make_store(svc, origin=SHOP, agents=agents)
        yield svc, store, stack


async def started(stack: contextlib.AsyncExitStack, client: C) -> C:
    """The client connected and welcomed; closed when the stack closes."""
    stack.push_async_callback(client.close)
    await client.start()
    return client


async def logged_in(
    stack: contextlib.AsyncExitStack, base_url: str, agent: dict[str, Any]
) -> httpx.AsyncClient:
    http = await login(base_url, agent["email"], agent["password"])
    stack.push_async_callback(http.aclose)
    return http


def text_is(text: str) -> Callable[[Frame], bool]:
    return lambda e: e["type"] == "message.created" and e["data"]["text"] == text
