"""Deleting a conversation, and erasing a shopper, against a live server: the rows, the
files in the local store, the clients told; who may; a file store that fails finished
by the sweep. S3 (moto's server) in test_erasure_s3.py."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from portside.domain.media import AttachmentLimits
from portside.errors import NotFound
from portside.files.local import LocalFileStore
from portside.media.processor import StandardMediaProcessor
from portside.services.attachment_files import do_sweep_unsent, read_signed_file, sign
from portside.services.attachments import Sender, do_upload
from portside.services.context import Services
from portside.services.conversations import do_send_visitor_message
from portside.services.erasure import do_delete_conversation
from portside.services.identity import VISITOR_SALT, AgentIdentity
from portside.storage import attachment_store, store_store
from tests.integration.test_attachments import shopper_token, upload, url_for
from tests.support import media_files
from tests.support.clients import client_id, console, login, widget
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer


def _admin(store: StoreFixture) -> dict[str, Any]:
    return store.agents[0]


async def _keys(svc: Services, store_id: int, ids: list[int]) -> list[str]:
    keys: list[str] = []
    for attachment_id in ids:
        row = await svc.db.read(
            lambda conn, i=attachment_id: attachment_store.find_attachment(conn, store_id, i)
        )
        assert row is not None
        keys += [key for key in (row.storage_key, row.thumbnail_key) if key]
    return keys


async def _conversation(
    server: LiveServer, store: StoreFixture, token: str, text: str = "hello"
) -> int:
    async with widget(
        server.ws_url, store.widget_key, store.origin, hello={"token": token}
    ) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", client_id=client_id(), text=text)
        return int((await shopper.expect("ack"))["conversation_id"])


async def test_an_admin_deletes_a_conversation_with_its_files(
    svc: Services, server: LiveServer, store: StoreFixture
) -> None:
    _visitor_id, token = await shopper_token(server, store)
    photo = (await upload(server, store, token, media_files.png(), "seam.png")).json()
    admin, colleague = _admin(store), store.agents[1]
    async with (
        contextlib.aclosing(
            await login(server.base_url, admin["email"], admin["password"])
        ) as http,
        contextlib.aclosing(
            await login(server.base_url, colleague["email"], colleague["password"])
        ) as colleague_http,
        widget(server.ws_url, store.widget_key, store.origin, hello={"token": token}) as shopper,
    ):
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send", client_id=client_id(), text="it tore", attachments=[photo["id"]]
        )
        conversation_id = int((await shopper.expect("ack"))["conversation_id"])
        pdf = await http.post(
            "/api/v1/uploads", content=media_files.pdf(), headers={"X-Filename": "label.pdf"}
        )
        assert pdf.status_code == 201, pdf.text
        reply = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={
                "client_id": client_id(),
                "text": "Your label",
                "attachments": [pdf.json()["id"]],
            },
        )
        assert reply.status_code == 201, reply.text
        link = (await url_for(server, store, token, photo["id"])).json()["url"]
        files = [
            Path(server.data_dir) / "files" / key
            for key in await _keys(svc, store.id, [photo["id"], pdf.json()["id"]])
        ]
        assert len(files) == 3  # the photo, its thumbnail, the PDF
        assert all(path.exists() for path in files)

        async with console(server.ws_url, colleague_http) as desk:
            await desk.expect("welcome")
            await desk.send(type="follow", conversation_id=conversation_id)
            deleted = await http.delete(f"/api/v1/conversations/{conversation_id}")
            assert deleted.status_code == 200, deleted.text
            assert deleted.json() == {
                "deleted": {
                    "conversations": [conversation_id],
                    "attachments": 2,
                    "files_pending": 0,
                }
            }
            told = await desk.expect("conversation.deleted")
            assert told["conversation_id"] == conversation_id
        told = await shopper.expect("conversation.deleted")
        assert told["conversation_id"] == conversation_id

        assert not any(path.exists() for path in files)
        for path in (
            f"/api/v1/conversations/{conversation_id}",
            f"/api/v1/conversations/{conversation_id}/events",
            f"/api/v1/attachments/{photo['id']}/url",
        ):
            gone = await http.get(path)
            assert gone.status_code == 404, path
        for attachment_id in (photo["id"], pdf.json()["id"]):
            assert (
                await svc.db.read(
                    lambda conn, i=attachment_id: attachment_store.find_attachment(
                        conn, store.id, i
                    )
                )
                is None
            )
        async with httpx.AsyncClient(timeout=10) as plain:
            assert (await plain.get(link)).status_code == 404  # a link given out before
        # A console that comes back with it in its resume map hears that it is gone.
        async with console(server.ws_url, colleague_http, resume={str(conversation_id): 3}) as desk:
            await desk.expect("welcome")
            told = await desk.expect("conversation.deleted")
            assert told["conversation_id"] == conversation_id


async def test_only_a_stores_admins_delete_and_only_its_own(
    svc: Services, server: LiveServer, store: StoreFixture
) -> None:
    visitor_id, token = await shopper_token(server, store)
    conversation_id = await _conversation(server, store, token)
    other = await make_store(svc, origin=server.origin)
    agent, stranger = store.agents[1], other.agents[0]
    async with (
        contextlib.aclosing(
            await login(server.base_url, agent["email"], agent["password"])
        ) as http,
        contextlib.aclosing(
            await login(server.base_url, stranger["email"], stranger["password"])
        ) as foreign,
    ):
        refused = await http.delete(f"/api/v1/conversations/{conversation_id}")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        assert "admins" in refused.json()["error"]["message"]
        assert (await http.delete(f"/api/v1/visitors/{visitor_id}")).status_code == 403
        # Another store's admin cannot tell it from one that never was.
        for path in (f"/api/v1/conversations/{conversation_id}", f"/api/v1/visitors/{visitor_id}"):
            unknown = await foreign.delete(path)
            assert unknown.status_code == 404, path
            assert unknown.json()["error"]["code"] == "not_found"
        # Still there.
        assert (await http.get(f"/api/v1/conversations/{conversation_id}")).status_code == 200
    admin = _admin(store)
    async with contextlib.aclosing(
        await login(server.base_url, admin["email"], admin["password"])
    ) as http:
        assert (await http.delete("/api/v1/conversations/987654321")).status_code == 404
        assert (await http.delete(f"/api/v1/conversations/{conversation_id}")).status_code == 200
        # Twice: the second finds nothing.
        assert (await http.delete(f"/api/v1/conversations/{conversation_id}")).status_code == 404


async def test_erasing_a_shopper_takes_everything_of_theirs(
    svc: Services, server: LiveServer, store: StoreFixture
) -> None:
    visitor_id, token = await shopper_token(server, store)
    photo = (await upload(server, store, token, media_files.png(), "a.png")).json()
    unsent = (await upload(server, store, token, media_files.pdf(), "never-sent.pdf")).json()
    files = [
        Path(server.data_dir) / "files" / key
        for key in await _keys(svc, store.id, [photo["id"], unsent["id"]])
    ]
    admin = _admin(store)
    async with (
        contextlib.aclosing(
            await login(server.base_url, admin["email"], admin["password"])
        ) as http,
        widget(server.ws_url, store.widget_key, store.origin, hello={"token": token}) as shopper,
    ):
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send", client_id=client_id(), text="look", attachments=[photo["id"]]
        )
        conversation_id = int((await shopper.expect("ack"))["conversation_id"])
        erased = await http.delete(f"/api/v1/visitors/{visitor_id}")
        assert erased.status_code == 200, erased.text
        assert erased.json() == {
            "deleted": {
                "visitor_id": visitor_id,
                "conversations": [conversation_id],
                "attachments": 2,
                "files_pending": 0,
            }
        }
        told = await shopper.expect("conversation.deleted")
        assert told["conversation_id"] == conversation_id
        assert await shopper.closed_with() == 4410
        assert (await http.get(f"/api/v1/visitors/{visitor_id}/events")).status_code == 404
    assert not any(path.exists() for path in files)
    assert (
        await svc.db.read(lambda conn: store_store.find_visitor(conn, store.id, visitor_id)) is None
    )
    # Their widget comes back as somebody new, with nothing of before.
    async with widget(
        server.ws_url, store.widget_key, store.origin, hello={"token": token}
    ) as shopper:
        welcome = await shopper.expect("welcome")
        error = await shopper.expect("error")
    assert error["code"] == "token_invalid"
    assert welcome["visitor"]["token"] != token
    assert welcome["conversation"] is None


class _AMinuteAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return super().get_timestamp() - 60


async def test_a_token_older_than_its_visitor_is_an_erased_shoppers(
    svc: Services, server: LiveServer, store: StoreFixture
) -> None:
    # SQLite gives an erased visitor's id (the highest) to the next new one: the token
    # the erased shopper's browser kept, issued before that newcomer existed, must not
    # make them the newcomer.
    newcomer_id, newcomer_token = await shopper_token(server, store)
    await _conversation(server, store, newcomer_token, "my address is 1 Main St")
    kept = URLSafeTimedSerializer(
        svc.settings.secret_key, salt=VISITOR_SALT, signer=_AMinuteAgo
    ).dumps({"s": store.id, "v": newcomer_id})
    async with widget(
        server.ws_url, store.widget_key, store.origin, hello={"token": kept}
    ) as shopper:
        welcome = await shopper.expect("welcome")
        error = await shopper.expect("error")
    assert error["code"] == "token_invalid"
    assert welcome["visitor"]["id"] != newcomer_id
    assert welcome["conversation"] is None
    # Nor over HTTP (uploads, links, beacons).
    refused = await upload(server, store, kept, media_files.png())
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_invalid"
    # The newcomer's own token is theirs.
    assert (await upload(server, store, newcomer_token, media_files.png())).status_code == 201


class FlakyFiles:
    """The FileStore port on a directory, whose deletes fail while `down` (S3
    unreachable, say)."""

    origin: str | None = None

    def __init__(self, root: Path) -> None:
        self.inner = LocalFileStore(root)
        self.down = True

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self.inner.put(key, data, content_type)

    async def get(self, key: str) -> bytes:
        return await self.inner.get(key)

    async def delete(self, key: str) -> None:
        if self.down:
            raise OSError("the file store cannot be reached")
        await self.inner.delete(key)

    async def url(self, key: str, expires_s: int, filename: str | None) -> str | None:
        return await self.inner.url(key, expires_s, filename)


async def test_files_the_store_cannot_delete_yet_are_deleted_by_the_sweep(
    svc: Services, server: LiveServer, store: StoreFixture, tmp_path: Path
) -> None:
    files = FlakyFiles(tmp_path)
    services = replace(svc, files=files, media=StandardMediaProcessor())
    visitor_id, _token = await shopper_token(server, store)
    photo = await do_upload(
        services,
        store_id=store.id,
        sender=Sender(visitor_id=visitor_id),
        data=media_files.png(),
        filename="p.png",
        limits=AttachmentLimits(),
    )
    sent = await do_send_visitor_message(
        services,
        store_id=store.id,
        visitor_id=visitor_id,
        client_id=client_id(),
        text="",
        attachments=[photo["id"]],
    )
    keys = await _keys(svc, store.id, [photo["id"]])
    admin = await svc.db.read(lambda conn: store_store.find_agent(conn, _admin(store)["id"]))
    erased = await do_delete_conversation(
        services, AgentIdentity.from_row(admin), conversation_id=sent.event.conversation_id
    )
    assert (erased.attachments, erased.files_pending) == (1, 1)
    # Deleted for everyone at once: its row only names the files left to delete.
    row = await svc.db.read(
        lambda conn: attachment_store.find_attachment(conn, store.id, photo["id"])
    )
    assert row is not None and attachment_store.is_erased(row)
    assert row.original_name is None
    assert all((tmp_path / key).exists() for key in keys)
    expires = int(svc.clock.now().timestamp()) + 60
    signature = sign(svc.settings.secret_key, photo["id"], "full", expires)
    with pytest.raises(NotFound):
        await read_signed_file(services, photo["id"], "full", expires, signature)

    await do_sweep_unsent(services)  # still down: nothing lost, nothing done
    assert all((tmp_path / key).exists() for key in keys)
    files.down = False
    await do_sweep_unsent(services)
    assert not any((tmp_path / key).exists() for key in keys)
    assert (
        await svc.db.read(
            lambda conn: attachment_store.find_attachment(conn, store.id, photo["id"])
        )
        is None
    )
