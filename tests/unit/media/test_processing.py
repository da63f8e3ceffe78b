"""Uploads decoded and re-encoded with the real Pillow and PyAV."""

import io

import av
import pytest
from PIL import Image

from portside.domain.media import AttachmentLimits, UploadRefused, sniff
from portside.media.processor import StandardMediaProcessor
from tests.support import media_files


async def process(data: bytes, limits: AttachmentLimits | None = None):  # type: ignore[no-untyped-def]
    sniffed = sniff(data)
    assert sniffed is not None
    return await StandardMediaProcessor().process(data, sniffed, limits or AttachmentLimits())


async def test_jpeg_loses_exif_and_gps_and_is_turned_upright() -> None:
    original = media_files.jpeg_with_gps(800, 600, orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it had GPS
    result = await process(original)
    stored = Image.open(io.BytesIO(result.data))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert "comment" not in stored.info
    assert b"Exif" not in result.data
    assert b"PhoneMaker" not in result.data
    # Orientation 6 (rotated 90°) applied: a portrait photo now.
    assert (result.width, result.height) == (600, 800) == stored.size
    thumb = Image.open(io.BytesIO(result.thumbnail or b""))
    assert max(thumb.size) == 320
    assert dict(thumb.getexif()) == {}


async def test_png_stays_png_with_its_transparency() -> None:
    result = await process(media_files.png(300, 200))
    stored = Image.open(io.BytesIO(result.data))
    assert (stored.format, stored.mode, result.content_type) == ("PNG", "RGBA", "image/png")
    assert (result.width, result.height) == (300, 200)


async def test_decompression_bomb_is_refused() -> None:
    bomb = media_files.png_bomb(8000)
    assert len(bomb) < 100_000
    with pytest.raises(UploadRefused, match="megapixels") as refused:
        await process(bomb)
    assert refused.value.code == "upload_refused"


async def test_truncated_jpeg_is_refused() -> None:
    with pytest.raises(UploadRefused, match="damaged or incomplete"):
        await process(media_files.truncated_jpeg())


async def test_heic_that_cannot_be_read_is_refused_clearly() -> None:
    with pytest.raises(UploadRefused, match="HEIC"):
        await process(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200)


@pytest.mark.parametrize("container", ["wav", "ogg"])
async def test_voice_note_is_normalised_to_aac_in_mp4_mono(container: str) -> None:
    result = await process(media_files.voice(3.0, container))
    assert result.content_type == "audio/mp4"
    assert result.duration_ms is not None and 2900 <= result.duration_ms <= 3100
    with av.open(io.BytesIO(result.data)) as stored:
        stream = stored.streams.audio[0]
        assert stream.codec_context.name == "aac"
        assert stream.codec_context.layout.nb_channels == 1
        assert stream.codec_context.sample_rate == 48000


@pytest.mark.parametrize("channels", [1, 2])
async def test_a_browser_recording_webm_opus_is_normalised_to_aac_in_mp4_mono(
    channels: int,
) -> None:
    recording = media_files.browser_recording(3.0, channels)
    with av.open(io.BytesIO(recording)) as source:  # as Chromium writes it: no duration
        assert source.duration is None
        assert source.streams.audio[0].codec_context.name == "opus"
    result = await process(recording)
    assert (result.kind, result.content_type) == ("voice", "audio/mp4")
    assert result.duration_ms is not None and 2900 <= result.duration_ms <= 3100
    with av.open(io.BytesIO(result.data)) as stored:
        stream = stored.streams.audio[0]
        assert stream.codec_context.name == "aac"
        assert stream.codec_context.layout.nb_channels == 1
        assert stream.codec_context.sample_rate == 48000


async def test_a_browser_recording_over_the_limit_is_refused_by_its_decoded_length() -> None:
    # Its header says nothing of its length: decoding finds it too long.
    with pytest.raises(UploadRefused, match="at most 5 seconds"):
        await process(media_files.browser_recording(6.0), AttachmentLimits(max_voice_s=5))


async def test_voice_note_over_the_limit_is_refused() -> None:
    with pytest.raises(UploadRefused, match="at most 5 seconds"):
        await process(media_files.voice(7.0), AttachmentLimits(max_voice_s=5))


async def test_undecodable_voice_note_is_refused() -> None:
    with pytest.raises(UploadRefused, match="cannot be played"):
        await process(b"OggS" + b"\x00" * 400)
