"""Voice notes: decoded with PyAV whatever the browser recorded (WebM/Opus, Ogg,
MP4/AAC, MP3, WAV), refused when longer than the store allows, and re-encoded as AAC
in MP4, mono, 48 kHz: what every browser plays and what speech-to-text takes."""

from __future__ import annotations

import io

import av
import av.error

from portside.domain.media import Processed, UploadRefused

RATE = 48_000
BITRATE = 64_000


def process_voice(data: bytes, *, max_seconds: int) -> Processed:
    try:
        return _transcode(data, max_seconds)
    except UploadRefused:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, OSError):
        raise UploadRefused(
            "This voice note cannot be played (damaged or not audio); record it again."
        ) from None


def _transcode(data: bytes, max_seconds: int) -> Processed:
    too_long = UploadRefused(f"A voice note can last at most {max_seconds} seconds.")
    with av.open(io.BytesIO(data), mode="r") as source:
        if not source.streams.audio:
            raise UploadRefused("This recording has no sound in it.")
        stream = source.streams.audio[0]
        # Cheap refusal from the header when it says; the decoded length decides.
        if source.duration is not None and source.duration / 1_000_000 > max_seconds + 1:
            raise too_long
        out = io.BytesIO()
        samples = 0
        with av.open(out, mode="w", format="mp4") as target:
            encoded = target.add_stream("aac", rate=RATE)
            encoded.bit_rate = BITRATE
            encoded.layout = "mono"
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=RATE)
            for frame in source.decode(stream):
                for chunk in resampler.resample(frame):
                    samples += chunk.samples
                    if samples > max_seconds * RATE:
                        raise too_long
                    target.mux(encoded.encode(chunk))
            for chunk in resampler.resample(None):
                samples += chunk.samples
                target.mux(encoded.encode(chunk))
            target.mux(encoded.encode(None))
    if samples == 0:
        raise UploadRefused("This voice note is silent or empty; record it again.")
    if samples > max_seconds * RATE:
        raise too_long
    return Processed(
        kind="voice",
        content_type="audio/mp4",
        data=out.getvalue(),
        duration_ms=samples * 1000 // RATE,
    )
