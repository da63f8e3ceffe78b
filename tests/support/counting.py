"""How many times a test's code called the database: batched work is asserted by the
number of transactions it took, over a real database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from portside.services.context import Services


@dataclass
class Calls:
    count: int = 0


@contextlib.contextmanager
def counting(svc: Services, method: str) -> Iterator[Calls]:
    """Count the calls of `svc.db.<method>` ("read" or "write") inside the block."""
    original = getattr(svc.db, method)
    calls = Calls()

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.count += 1
        return await original(*args, **kwargs)

    setattr(svc.db, method, counted)
    try:
        yield calls
    finally:
        setattr(svc.db, method, original)
