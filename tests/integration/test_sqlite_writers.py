"""Two processes writing one SQLite file (a server and a CLI command, or a test) wait for
each other instead of failing."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from sqlalchemy import Connection

from portside.storage.database import Database


def test_a_writer_that_read_first_waits_for_another_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first_db, second_db = Database(url), Database(url)
    asyncio.run(first_db.write(lambda conn: conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")))
    has_read = threading.Event()
    failures: list[BaseException] = []

    def read_then_write(conn: Connection) -> None:
        conn.exec_driver_sql("SELECT count(*) FROM t").all()
        has_read.set()
        time.sleep(0.3)  # the other writer's chance to come in between
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")

    def run(db: Database, work: object, wait: threading.Event | None) -> None:
        if wait is not None:
            wait.wait(5)
        try:
            asyncio.run(db.write(work))  # type: ignore[arg-type]
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=run, args=(first_db, read_then_write, None)),
        threading.Thread(
            target=run,
            args=(
                second_db,
                lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (2)"),
                has_read,
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert failures == []
    rows = asyncio.run(
        first_db.read(lambda conn: conn.exec_driver_sql("SELECT x FROM t ORDER BY x").all())
    )
    assert [row[0] for row in rows] == [1, 2]
    for db in (first_db, second_db):
        asyncio.run(db.close())
