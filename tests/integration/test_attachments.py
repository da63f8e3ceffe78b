"""Attachments end to end against a live server: uploads over HTTP, sent with a
message over the widget socket, fetched through short-lived signed URLs."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from portside.services.attachment_files import sign
from portside.services.context import Services
from tests.support import media_files
from tests.support.clients import client_id, login, widget
from tests.support.factories import StoreFixture, make_store
from tests.support.server import LiveServer


async def shopper_token(server: LiveServer, store: StoreFixture) -> tuple[int, str]:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        frame = await shopper.expect("welcome")
    return int(frame["visitor"]["id"]), str(frame["visitor"]["token"])


async def upload(
    server: LiveServer, store: StoreFixture, token: str, data: bytes, name: str = "photo.jpg"
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
        return await http.post(
            f"/api/v1/uploads?store={store.widget_key}",
            content=data,
            headers={
                "Authorization": f"Bearer {token}",
                "Origin": store.origin,
                "Content-Type": "image/jpeg",
                "X-Filename": name,
            },
        )


async def url_for(server: LiveServer, store: StoreFixture, token: str, attachment_id: int) -> Any:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        return await http.get(
            f"/api/v1/attachments/{attachment_id}/url?store={store.widget_key}",
            headers={"Authorization": f"Bearer {token}", "Origin": store.origin},
        )


async def test_photo_sent_by_a_shopper_reaches_the_agent_without_its_gps(
    server: LiveServer, store: StoreFixture
) -> None:
    _visitor_id, token = await shopper_token(server, store)
    answer = await upload(server, store, token, media_files.jpeg_with_gps())
    assert answer.status_code == 201, answer.text
    assert answer.headers["access-control-allow-origin"] == store.origin
    attachment = answer.json()
    assert attachment["kind"] == "image"
    assert attachment["content_type"] == "image/jpeg"
    assert (attachment["width"], attachment["height"], attachment["thumbnail"]) == (600, 800, True)

    async with widget(
        server.ws_url, store.widget_key, store.origin, hello={"token": token}
    ) as shopper:
        await shopper.expect("welcome")
        await shopper.send(
            type="message.send",
            ref="r1",
            client_id=client_id(),
            text="",
            attachments=[attachment["id"]],
        )
        ack = await shopper.expect("ack")
        assert ack["ref"] == "r1"
        message = await shopper.expect(
            "event", where=lambda f: f["event"]["type"] == "message.created"
        )
        assert message["event"]["data"]["attachments"] == [attachment]
        assert message["event"]["data"]["text"] == ""
        # Sent once: the same upload cannot go out with a second message.
        await shopper.send(
            type="message.send",
            ref="r2",
            client_id=client_id(),
            text="again",
            attachments=[attachment["id"]],
        )
        refused = await shopper.expect("error")
        assert refused["code"] == "not_found"

    urls = await url_for(server, store, token, attachment["id"])
    assert urls.status_code == 200, urls.text
    body = urls.json()
    async with httpx.AsyncClient(timeout=10) as http:
        photo = await http.get(body["url"])
        thumb = await http.get(body["thumbnail_url"])
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert photo.headers["content-disposition"] == "inline"
    stored = Image.open(io.BytesIO(photo.content))
    assert dict(stored.getexif()) == {}
    assert b"Exif" not in photo.content
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320

    # The store's agent may see it too.
    agent = store.agents[1]
    async with contextlib.aclosing(
        await login(server.base_url, agent["email"], agent["password"])
    ) as http:
        seen = await http.get(f"/api/v1/attachments/{attachment['id']}/url")
        assert seen.status_code == 200
        assert seen.json()["url"].startswith(server.base_url + "/files/")


async def test_strangers_get_no_url(svc: Services, server: LiveServer, store: StoreFixture) -> None:
    _visitor, token = await shopper_token(server, store)
    attachment = (await upload(server, store, token, media_files.png())).json()
    # Another shopper of the same store.
    _other, other_token = await shopper_token(server, store)
    assert (await url_for(server, store, other_token, attachment["id"])).status_code == 404
    # An agent of another store.
    other_store = await make_store(svc, origin=server.origin)
    agent = other_store.agents[0]
    async with contextlib.aclosing(
        await login(server.base_url, agent["email"], agent["password"])
    ) as http:
        refused = await http.get(f"/api/v1/attachments/{attachment['id']}/url")
    assert refused.status_code == 404
    # A shopper's token with another store's widget key.
    assert (await url_for(server, other_store, token, attachment["id"])).status_code in (401, 403)


async def test_signed_urls_expire_and_cannot_be_forged(
    server: LiveServer, store: StoreFixture
) -> None:
    _visitor, token = await shopper_token(server, store)
    attachment = (await upload(server, store, token, media_files.png())).json()
    url = (await url_for(server, store, token, attachment["id"])).json()["url"]
    secret = (Path(server.data_dir) / "secret.key").read_text().strip()
    past = int(time.time()) - 1
    expired = (
        f"/files/{attachment['id']}/full/{past}/{sign(secret, attachment['id'], 'full', past)}"
    )
    forged_id = attachment["id"] + 1
    forged = url.replace(f"/files/{attachment['id']}/", f"/files/{forged_id}/")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        assert (await http.get(url)).status_code == 200
        late = await http.get(expired)
        assert late.status_code == 403
        assert late.json()["error"]["code"] == "file_url_expired"
        wrong = await http.get(forged)
        assert wrong.status_code == 403
        assert wrong.json()["error"]["code"] == "file_url_invalid"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"<!doctype html><p>hi</p>", 415, "upload_type_refused"),
        (media_files.png_bomb(8000), 422, "upload_refused"),
        (media_files.truncated_jpeg(), 422, "upload_refused"),
        (media_files.pdf(encrypted=True), 422, "upload_refused"),
    ],
    ids=["html-named-png", "bomb", "truncated", "encrypted-pdf"],
)
async def test_bad_uploads_are_refused(
    server: LiveServer, store: StoreFixture, data: bytes, status: int, code: str
) -> None:
    _visitor, token = await shopper_token(server, store)
    answer = await upload(server, store, token, data, name="photo.png")
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


async def test_oversize_upload_is_refused_before_it_is_read(
    server: LiveServer, store: StoreFixture
) -> None:
    _visitor, token = await shopper_token(server, store)
    agent = store.agents[0]
    async with contextlib.aclosing(
        await login(server.base_url, agent["email"], agent["password"])
    ) as http:
        put = await http.put(
            "/api/v1/settings/attachments", json={"max_image_mb": 1, "max_file_mb": 1}
        )
        assert put.status_code == 200, put.text
    answer = await upload(server, store, token, b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "upload_too_large"


async def test_pdf_downloads_as_an_attachment_and_voice_notes_play_as_aac(
    server: LiveServer, store: StoreFixture
) -> None:
    _visitor, token = await shopper_token(server, store)
    pdf = (await upload(server, store, token, media_files.pdf(), name="receipt.pdf")).json()
    assert (pdf["kind"], pdf["name"]) == ("file", "receipt.pdf")
    voice = await upload(server, store, token, media_files.voice(2.0), name="note.wav")
    assert voice.status_code == 201, voice.text
    assert voice.json()["content_type"] == "audio/mp4"
    assert 1900 <= voice.json()["duration_ms"] <= 2100
    async with httpx.AsyncClient(timeout=10) as http:
        pdf_url = (await url_for(server, store, token, pdf["id"])).json()
        got = await http.get(pdf_url["url"])
    assert pdf_url["thumbnail_url"] is None
    assert got.content == media_files.pdf()
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="receipt.pdf"')


async def test_a_browser_recording_is_taken_and_stored_as_aac(
    server: LiveServer, store: StoreFixture
) -> None:
    # What Chromium's MediaRecorder uploads: WebM/Opus with no duration in its header.
    _visitor, token = await shopper_token(server, store)
    answer = await upload(
        server, store, token, media_files.browser_recording(2.0, 2), name="voice-note.webm"
    )
    assert answer.status_code == 201, answer.text
    voice = answer.json()
    assert (voice["kind"], voice["content_type"], voice["name"]) == (
        "voice",
        "audio/mp4",
        "voice-note.webm",
    )
    assert 1900 <= voice["duration_ms"] <= 2100


async def test_welcome_tells_the_widget_what_it_may_send(
    server: LiveServer, store: StoreFixture
) -> None:
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        welcome = await shopper.expect("welcome")
    assert welcome["attachments"] == {
        "kinds": ["image", "file", "voice"],
        "max_image_mb": 10,
        "max_file_mb": 10,
        "max_voice_s": 120,
    }
    agent = store.agents[0]
    async with contextlib.aclosing(
        await login(server.base_url, agent["email"], agent["password"])
    ) as http:
        put = await http.put(
            "/api/v1/settings/attachments", json={"kinds": ["voice", "image"], "max_voice_s": 30}
        )
        assert put.status_code == 200, put.text
    # What the widget reads to offer its recorder and stop it at the store's limit.
    async with widget(server.ws_url, store.widget_key, store.origin) as shopper:
        welcome = await shopper.expect("welcome")
    assert welcome["attachments"]["kinds"] == ["image", "voice"]
    assert welcome["attachments"]["max_voice_s"] == 30


async def test_agent_sends_a_photo_from_the_console_api(
    server: LiveServer, store: StoreFixture
) -> None:
    _visitor, token = await shopper_token(server, store)
    async with widget(
        server.ws_url, store.widget_key, store.origin, hello={"token": token}
    ) as shopper:
        await shopper.expect("welcome")
        await shopper.send(type="message.send", ref="r", client_id=client_id(), text="hello")
        ack = await shopper.expect("ack")
    conversation_id = ack["conversation_id"]
    agent = store.agents[0]
    async with contextlib.aclosing(
        await login(server.base_url, agent["email"], agent["password"])
    ) as http:
        up = await http.post(
            "/api/v1/uploads", content=media_files.png(), headers={"X-Filename": "size-chart.png"}
        )
        assert up.status_code == 201, up.text
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={
                "client_id": client_id(),
                "text": "our size chart",
                "attachments": [up.json()["id"]],
            },
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["event"]["data"]["attachments"][0]["name"] == "size-chart.png"
        async with httpx.AsyncClient(base_url=server.base_url, cookies=http.cookies) as bare:
            no_csrf = await bare.post("/api/v1/uploads", content=media_files.png())
        assert no_csrf.status_code == 403
    # The shopper of the conversation may see the agent's photo.
    assert (await url_for(server, store, token, up.json()["id"])).status_code == 200
