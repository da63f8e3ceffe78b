"""The FileStore port against a real directory and a real S3-compatible server
(moto's, started here on a free port), and the sweep of unsent uploads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from portside.domain.media import AttachmentLimits
from portside.files.local import LocalFileStore
from portside.files.s3 import S3FileStore, S3Location
from portside.media.processor import StandardMediaProcessor
from portside.services.attachment_files import do_sweep_unsent
from portside.services.attachments import Sender, do_upload
from portside.services.context import Services
from portside.storage import attachment_store
from tests.support import media_files
from tests.support.factories import StoreFixture
from tests.support.server import free_port

BUCKET = "portside-test"


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    ).create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


def s3_store(url: str) -> S3FileStore:
    return S3FileStore(
        S3Location(
            bucket=BUCKET,
            endpoint_url=url,
            region="us-east-1",
            access_key_id="k",
            secret_access_key="s",
            prefix="attachments/",
        )
    )


async def test_s3_store_puts_gets_presigns_and_deletes(s3_url: str) -> None:
    store = s3_store(s3_url)
    await store.put("s1/202612/abc", b"%PDF-1.4 hello %%EOF", "application/pdf")
    assert await store.get("s1/202612/abc") == b"%PDF-1.4 hello %%EOF"
    url = await store.url("s1/202612/abc", 60, "recibo.pdf")
    assert url is not None and "X-Amz-Signature" in url
    async with httpx.AsyncClient() as http:
        got = await http.get(url)
        assert got.status_code == 200
        assert got.content == b"%PDF-1.4 hello %%EOF"
        assert got.headers["content-disposition"].startswith('attachment; filename="recibo.pdf"')
    await store.delete("s1/202612/abc")
    with pytest.raises(FileNotFoundError):
        await store.get("s1/202612/abc")


async def test_local_store_writes_atomically_and_refuses_foreign_keys(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    await store.put("s1/202612/abc", b"bytes", "image/png")
    assert await store.get("s1/202612/abc") == b"bytes"
    assert [p.name for p in (tmp_path / "s1" / "202612").iterdir()] == ["abc"]
    assert await store.url("s1/202612/abc", 60, None) is None
    for key in ("../etc/passwd", "/etc/passwd", "s1/../../x", "S1/UPPER"):
        with pytest.raises(ValueError, match="not a file key"):
            await store.put(key, b"x", "text/plain")
    await store.delete("s1/202612/abc")
    await store.delete("s1/202612/abc")  # gone already: no error
    with pytest.raises(FileNotFoundError):
        await store.get("s1/202612/abc")


async def test_sweep_deletes_uploads_never_sent_after_a_day(
    svc: Services, store: StoreFixture, tmp_path: Path, s3_url: str
) -> None:
    for files in (LocalFileStore(tmp_path), s3_store(s3_url)):
        services = replace(svc, files=files, media=StandardMediaProcessor())
        agent_id = store.agents[0]["id"]
        old = await do_upload(
            services,
            store_id=store.id,
            sender=Sender(agent_id=agent_id),
            data=media_files.png(),
            filename="old.png",
            limits=AttachmentLimits(),
        )
        row = await svc.db.read(
            lambda conn, i=old["id"]: attachment_store.find_attachment(conn, store.id, i)
        )
        assert row is not None
        keys = [row.storage_key, row.thumbnail_key]
        # Made a day and a minute ago.
        await svc.db.write(
            lambda conn, i=old["id"]: attachment_store.update_attachment(
                conn, store.id, i, created_at=svc.clock.now() - timedelta(hours=24, minutes=1)
            )
        )
        fresh = await do_upload(
            services,
            store_id=store.id,
            sender=Sender(agent_id=agent_id),
            data=media_files.png(),
            filename="new.png",
            limits=AttachmentLimits(),
        )
        assert await do_sweep_unsent(services) >= 1
        assert (
            await svc.db.read(
                lambda conn, i=old["id"]: attachment_store.find_attachment(conn, store.id, i)
            )
            is None
        )
        for key in keys:
            with pytest.raises(FileNotFoundError):
                await files.get(key)
        assert await svc.db.read(
            lambda conn, i=fresh["id"]: attachment_store.find_attachment(conn, store.id, i)
        )
