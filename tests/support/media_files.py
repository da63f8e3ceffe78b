"""Real files for attachment tests, made here: photos with EXIF GPS, a decompression
bomb, a truncated JPEG, a voice note encoded with PyAV."""

from __future__ import annotations

import io
import struct
import zlib

import av
import numpy as np
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 800, height: int = 600, orientation: int = 6) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (35.0, 40.0, 12.5)
    gps[3] = "E"
    gps[4] = (139.0, 45.0, 3.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"taken at home")
    return out.getvalue()


def png(width: int = 300, height: int = 200, alpha: bool = True) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (10, 120, 200, 128))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_bomb(side: int = 8000) -> bytes:
    """A real, valid 1-bit PNG of side x side black pixels (64 megapixels for 8000): a
    few kilobytes that decode to far more than any photo."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    # Noise does not compress: cutting it in half loses real image data.
    pixels = np.random.default_rng(1).integers(0, 255, (400, 400, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG")
    data = out.getvalue()
    return data[: len(data) // 2]


def pdf(encrypted: bool = False) -> bytes:
    body = (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    )
    trailer = b"trailer << /Root 1 0 R" + (b" /Encrypt 3 0 R" if encrypted else b"") + b" >>\n"
    return body + trailer + b"%%EOF\n"


def voice(seconds: float, container: str = "wav", rate: int = 16000) -> bytes:
    """A tone of `seconds`, as a browser or phone might send it: WAV (PCM) or Ogg
    (Vorbis... Opus where PyAV's FFmpeg has it)."""
    out = io.BytesIO()
    samples = int(seconds * rate)
    t = np.arange(samples) / rate
    pcm = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    with av.open(out, "w", format=container) as target:
        if container == "wav":
            stream = target.add_stream("pcm_s16le", rate=rate)
            fmt = "s16"
        else:
            stream = target.add_stream("libopus", rate=48000)
            fmt = "s16"
        stream.layout = "mono"
        step = rate // 10
        for start in range(0, samples, step):
            frame = av.AudioFrame.from_ndarray(
                pcm[start : start + step].reshape(1, -1), format=fmt, layout="mono"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()


def browser_recording(seconds: float, channels: int = 1) -> bytes:
    """A voice note as Chromium's MediaRecorder makes it (`audio/webm;codecs=opus`):
    Opus at 48 kHz in WebM written as a live stream, so its header has no duration and
    it has no cues; only decoding tells how long it is."""
    rate = 48000
    layout = "mono" if channels == 1 else "stereo"
    out = io.BytesIO()
    samples = int(seconds * rate)
    t = np.arange(samples) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    pcm = np.repeat(tone, channels)  # packed: each sample once per channel, interleaved
    with av.open(out, "w", format="webm", options={"live": "1"}) as target:
        stream = target.add_stream("libopus", rate=rate)
        stream.layout = layout
        step = rate // 50  # 20 ms, Opus's frame
        for start in range(0, samples, step):
            chunk = pcm[start * channels : (start + step) * channels].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()
