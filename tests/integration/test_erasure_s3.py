"""A server that keeps attachments in S3 (moto's server, started here): its pages allow
the bucket's origin for photos and voice notes, and deleting a conversation deletes its
objects from the bucket."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from portside.services.context import Services
from portside.storage import attachment_store
from tests.integration.test_attachments import shopper_token, upload, url_for
from tests.support import media_files
from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store, services_for
from tests.support.server import LiveServer, free_port

BUCKET = "portside-erasure"
PREFIX = "attachments/"


@dataclass
class S3Server:
    server: LiveServer
    s3_url: str
    bucket: Any  # boto3's client, to look into the bucket


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    moto.start()
    s3_url = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    client.create_bucket(Bucket=BUCKET)
    data_dir: Path = tmp_path_factory.mktemp("s3-server")
    server = LiveServer(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portside.db'}",
        env={
            "PORTSIDE_AGENT": "off",
            "PORTSIDE_LOGINS_PER_MINUTE": "1000",
            "PORTSIDE_S3_BUCKET": BUCKET,
            "PORTSIDE_S3_ENDPOINT_URL": s3_url,
            "PORTSIDE_S3_REGION": "us-east-1",
            "PORTSIDE_S3_ACCESS_KEY_ID": "k",
            "PORTSIDE_S3_SECRET_ACCESS_KEY": "s",
            "PORTSIDE_S3_PREFIX": PREFIX,
        },
    )
    server.start()
    yield S3Server(server, s3_url, client)
    server.stop()
    moto.stop()


@pytest.fixture
async def s3_svc(s3_server: S3Server) -> AsyncIterator[Services]:
    async with services_for(s3_server.server.database_url, s3_server.server.data_dir) as svc:
        yield svc


@pytest.fixture
async def s3_store(s3_svc: Services, s3_server: S3Server) -> StoreFixture:
    return await make_store(s3_svc, origin=s3_server.server.origin)


def _objects(s3: S3Server) -> set[str]:
    listed = s3.bucket.list_objects_v2(Bucket=BUCKET)
    return {item["Key"] for item in listed.get("Contents", [])}


async def test_the_pages_allow_the_buckets_origin_for_photos_and_voice_notes(
    s3_server: S3Server,
) -> None:
    async with httpx.AsyncClient(base_url=s3_server.server.base_url, timeout=10) as http:
        for path in ("/console/", "/"):
            answer = await http.get(path)
            policy = {
                name: sources
                for name, *sources in (
                    part.split() for part in answer.headers["content-security-policy"].split(";")
                )
            }
            assert policy["img-src"] == ["'self'", "data:", s3_server.s3_url], path
            assert policy["media-src"] == ["'self'", s3_server.s3_url], path
            assert s3_server.s3_url not in policy["script-src"]


async def test_deleting_a_conversation_deletes_its_objects_from_the_bucket(
    s3_svc: Services, s3_server: S3Server, s3_store: StoreFixture
) -> None:
    server, store = s3_server.server, s3_store
    _visitor, token = await shopper_token(server, store)
    photo = await upload(server, store, token, media_files.png(), "seam.png")
    assert photo.status_code == 201, photo.text
    attachment = photo.json()
    async with widget(
        server.ws_url, store.widget_key, store.origin, hello={"token": token}
    ) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send", client_id=client_id(), text="", attachments=[attachment["id"]]
        )
        conversation_id = int((await shopper.expect("ack"))["conversation_id"])
    row = await s3_svc.db.read(
        lambda conn: attachment_store.find_attachment(conn, store.id, attachment["id"])
    )
    assert row is not None
    keys = {PREFIX + row.storage_key, PREFIX + row.thumbnail_key}
    assert keys <= _objects(s3_server)
    # The photo is the bucket's to serve, at the origin the pages allow.
    urls = (await url_for(server, store, token, attachment["id"])).json()
    assert urls["thumbnail_url"].startswith(f"{s3_server.s3_url}/{BUCKET}/")
    async with httpx.AsyncClient(timeout=10) as plain:
        assert (await plain.get(urls["thumbnail_url"])).status_code == 200

    admin = store.agents[0]
    async with contextlib.aclosing(
        await login(server.base_url, admin["email"], admin["password"])
    ) as http:
        deleted = await http.delete(f"/api/v1/conversations/{conversation_id}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"]["files_pending"] == 0
    assert not keys & _objects(s3_server)
    async with httpx.AsyncClient(timeout=10) as plain:
        assert (await plain.get(urls["thumbnail_url"])).status_code == 404
