"""The speech and vision providers over a real socket, against the fake endpoint
(ai/speech.py, ai/vision.py, ai/media.py), with a real voice note spoken by espeak-ng."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from portside.ai.media import ServerMediaModels
from portside.ai.speech import NOT_INSTALLED, WhisperSpeech, language_code
from portside.ai.vision import read_answer
from portside.domain.ports import MediaEndpoint, ReadingFailed
from tests.support.fake_media_ai import fake_media_ai
from tests.support.voice import voice_note


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def test_a_voice_note_is_transcribed_with_its_language() -> None:
    models = ServerMediaModels()
    audio = voice_note("donde esta mi pedido", "es")
    async with fake_media_ai() as fake:
        fake.transcript, fake.language = " ¿Dónde está mi pedido? ", "spanish"
        speech = models.speech_endpoint(MediaEndpoint(fake.base_url, "whisper-1", "sk-9", 5))
        got = await speech.transcribe(audio, "audio/mp4", "es")
    await models.aclose()
    assert (got.text, got.language, got.provider) == ("¿Dónde está mi pedido?", "es", "endpoint")
    sent = fake.transcriptions[0]
    assert sent["model"] == "whisper-1"
    assert sent["language"] == "es"
    assert sent["response_format"] == "verbose_json"
    assert sent["file_type"] == "audio/mp4"
    assert sent["filename"] == "voice.m4a"
    assert sent["authorization"] == "Bearer sk-9"
    assert sent["seconds"] > 1


async def test_what_is_not_audio_or_says_nothing_is_a_clear_failure() -> None:
    models = ServerMediaModels()
    async with fake_media_ai() as fake:
        speech = models.speech_endpoint(MediaEndpoint(fake.base_url, "m", None, 5))
        with pytest.raises(ReadingFailed, match="answered 400"):
            await speech.transcribe(b"\x00" * 4000, "audio/mp4", None)
        fake.transcript = "   "
        with pytest.raises(ReadingFailed, match="no words"):
            await speech.transcribe(voice_note("hello there"), "audio/mp4", None)
        assert fake.transcriptions[1]["authorization"] is None
        assert "language" not in fake.transcriptions[1]
    await models.aclose()


async def test_a_slow_failing_or_absent_speech_endpoint_raises() -> None:
    models = ServerMediaModels()
    audio = voice_note("hello")
    async with fake_media_ai() as fake:
        fake.status = 503
        with pytest.raises(ReadingFailed, match="503"):
            await models.speech_endpoint(MediaEndpoint(fake.base_url, "m", None, 5)).transcribe(
                audio, "audio/mp4", None
            )
        fake.status, fake.delay = 200, 3
        with pytest.raises(TimeoutError):
            await models.speech_endpoint(MediaEndpoint(fake.base_url, "m", None, 0.2)).transcribe(
                audio, "audio/mp4", None
            )
        port = fake.port
    with pytest.raises(ReadingFailed, match="could not be reached"):
        await models.speech_endpoint(
            MediaEndpoint(f"http://127.0.0.1:{port}/v1", "m", None, 2)
        ).transcribe(audio, "audio/mp4", None)
    await models.aclose()


async def test_faster_whisper_says_why_it_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(ReadingFailed, match="PORTSIDE_WHISPER_MODEL_DIR"):
        ServerMediaModels().local_speech()
    with pytest.raises(ReadingFailed, match=r"has no model\.bin, config\.json"):
        ServerMediaModels(tmp_path).local_speech()
    (tmp_path / "model.bin").write_bytes(b"weights")
    (tmp_path / "config.json").write_text("{}")
    models = ServerMediaModels(tmp_path)
    speech = models.local_speech()

    def missing() -> object:
        raise ReadingFailed(NOT_INSTALLED)

    # faster-whisper is an optional extra, not installed here: a store is told so.
    with pytest.raises(ReadingFailed, match=r"portside\[whisper\]"):
        await speech.transcribe(voice_note("hello"), "audio/mp4", None)
    broken = WhisperSpeech(tmp_path, load=missing)
    with pytest.raises(ReadingFailed, match="not installed"):
        await broken.transcribe(b"x", "audio/mp4", None)
    broken.close()
    await models.aclose()


async def test_a_photo_is_described_and_labelled() -> None:
    models = ServerMediaModels()
    async with fake_media_ai() as fake:
        fake.description, fake.label = "Un jersey rojo con la costura rota.", "damaged_item"
        vision = models.vision_endpoint(MediaEndpoint(fake.base_url, "vis-1", "sk-2", 5))
        got = await vision.describe(_png(), "image/png", "llegó así", "es")
    await models.aclose()
    assert got.text == "Un jersey rojo con la costura rota."
    assert got.labels == ("damaged_item",)
    assert got.provider == "endpoint"
    sent = fake.visions[0]
    assert sent["kind"] == "data:image/png;base64"
    assert sent["size"] == (64, 48)
    assert sent["model"] == "vis-1"
    assert sent["authorization"] == "Bearer sk-2"
    assert "language es" in sent["texts"][0]
    assert sent["texts"][1] == "The shopper wrote with it: llegó así"


async def test_a_vision_answer_that_is_not_as_asked_is_refused() -> None:
    models = ServerMediaModels()
    async with fake_media_ai() as fake:
        vision = models.vision_endpoint(MediaEndpoint(fake.base_url, "v", None, 5))
        fake.vision_answer = "It is a red jumper."
        with pytest.raises(ReadingFailed, match="JSON"):
            await vision.describe(_png(), "image/png", None, "en")
        fake.vision_answer = '{"description": "A cat.", "label": "cat"}'
        with pytest.raises(ReadingFailed, match="label"):
            await vision.describe(_png(), "image/png", None, "en")
        fake.status = 500
        with pytest.raises(ReadingFailed, match="500"):
            await vision.describe(_png(), "image/png", None, "en")
    await models.aclose()


def test_answers_are_read_strictly() -> None:
    fenced = '```json\n{"description": "A label: size M.", "labels": ["size_label"]}\n```'
    assert read_answer(fenced).labels == ("size_label",)
    for bad in ('{"description": "", "label": "other"}', '["other"]', '{"description": "x"}'):
        with pytest.raises(ReadingFailed):
            read_answer(bad)
    assert [language_code(v) for v in ("Spanish", "pt-BR", "zh", "", None, "klingon!")] == [
        "es",
        "pt",
        "zh",
        None,
        None,
        None,
    ]
