"""Voice notes for tests: spoken by espeak-ng, stored as uploads store them (AAC in MP4,
mono, 16 kHz; contracts of services/attachments.py), encoded with PyAV."""

from __future__ import annotations

import io
import shutil
import subprocess

import av
import pytest


def spoken_wav(text: str, voice: str = "en") -> bytes:
    """`text` spoken by espeak-ng, as a WAV file."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is not installed: apt-get install -y espeak-ng")
    done = subprocess.run(
        [espeak, "-v", voice, "--stdout", text], capture_output=True, check=True, timeout=30
    )
    return done.stdout


def voice_note(text: str, voice: str = "en") -> bytes:
    """`text` spoken, as AAC in an MP4 container, mono, 16 kHz."""
    out = io.BytesIO()
    with (
        av.open(io.BytesIO(spoken_wav(text, voice))) as source,
        av.open(out, "w", format="mp4") as target,
    ):
        assert isinstance(source, av.container.InputContainer)
        stream = target.add_stream("aac", rate=16000, layout="mono")
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=16000)
        for frame in source.decode(audio=0):
            for converted in resampler.resample(frame):
                target.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            target.mux(stream.encode(converted))
        target.mux(stream.encode(None))
    return out.getvalue()
