"""The MediaProcessor port (domain/ports.py) on Pillow and PyAV: each upload decoded
in a worker thread, at most `workers` at once, so the event loop never decodes and a
burst of uploads cannot take every core."""

from __future__ import annotations

import asyncio

from portside.domain.media import AttachmentLimits, Processed, Sniffed, check_pdf
from portside.media.audio import process_voice
from portside.media.images import MAX_PIXELS, process_image


class StandardMediaProcessor:
    def __init__(self, *, workers: int = 2, max_pixels: int = MAX_PIXELS) -> None:
        self._slots = asyncio.Semaphore(workers)
        self.max_pixels = max_pixels

    async def process(self, data: bytes, sniffed: Sniffed, limits: AttachmentLimits) -> Processed:
        async with self._slots:
            return await asyncio.to_thread(self._process, data, sniffed, limits)

    def _process(self, data: bytes, sniffed: Sniffed, limits: AttachmentLimits) -> Processed:
        if sniffed.kind == "image":
            return process_image(data, max_pixels=self.max_pixels)
        if sniffed.kind == "voice":
            return process_voice(data, max_seconds=limits.max_voice_s)
        check_pdf(data)
        return Processed(kind="file", content_type=sniffed.content_type, data=data)
