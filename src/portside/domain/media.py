"""Attachments, as rules: what a file is (by its first bytes, never its name or the
type a browser claims), which kinds a store takes and how large, and what processing
makes of an upload (services/attachments.py stores it; media/ does the decoding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from portside.errors import PortsideError

Kind = Literal["image", "file", "voice"]
KINDS: tuple[Kind, ...] = ("image", "file", "voice")
# At most this many attachments go with one message.
MAX_PER_MESSAGE = 5
MB = 1024 * 1024


class UploadRefused(PortsideError):
    """The file is not what it says, is damaged, is a decompression bomb or a voice
    note too long: nothing was stored. The message says which."""

    code = "upload_refused"
    status = 422


class UploadTypeRefused(PortsideError):
    """The file's content is of a type Portside or the store does not take."""

    code = "upload_type_refused"
    status = 415


class UploadTooLarge(PortsideError):
    code = "upload_too_large"
    status = 413


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes say a file is."""

    kind: Kind
    content_type: str
    label: str  # for people: "a JPEG photo", "a PDF"


@dataclass(frozen=True)
class AttachmentLimits:
    """A store's `attachments` settings (services/attachments_settings.py)."""

    kinds: tuple[Kind, ...] = KINDS
    max_image_mb: int = 10
    max_file_mb: int = 10
    max_voice_s: int = 120

    def max_bytes(self, kind: Kind) -> int:
        # A voice note's bytes are bounded like a file's; its length by max_voice_s.
        return (self.max_image_mb if kind == "image" else self.max_file_mb) * MB

    @property
    def largest_bytes(self) -> int:
        """The most any upload to this store may have: read no further than this."""
        return max(self.max_bytes(kind) for kind in self.kinds) if self.kinds else 0


@dataclass(frozen=True)
class Processed:
    """An upload as it is stored: re-encoded image, checked PDF, normalised voice."""

    kind: Kind
    content_type: str
    data: bytes
    thumbnail: bytes | None = None
    thumbnail_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None


# (offset, magic, content type, kind, label); checked in order.
_SIGNATURES: tuple[tuple[int, bytes, str, Kind, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg", "image", "a JPEG image"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png", "image", "a PNG image"),
    (0, b"GIF87a", "image/gif", "image", "a GIF image"),
    (0, b"GIF89a", "image/gif", "image", "a GIF image"),
    (0, b"%PDF-", "application/pdf", "file", "a PDF"),
    (0, b"\x1a\x45\xdf\xa3", "audio/webm", "voice", "a WebM recording"),
    (0, b"OggS", "audio/ogg", "voice", "an Ogg recording"),
    (0, b"ID3", "audio/mpeg", "voice", "an MP3 recording"),
)
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1"})
_AUDIO_MP4_BRANDS = frozenset(
    {b"M4A ", b"M4B ", b"isom", b"iso2", b"iso5", b"iso6", b"mp41", b"mp42", b"dash", b"3gp4"}
)


def sniff(data: bytes) -> Sniffed | None:
    """The type of a file by its magic bytes; None when it is none Portside takes."""
    for offset, magic, content_type, kind, label in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return Sniffed(kind, content_type, label)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", "a WebP image")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return Sniffed("voice", "audio/wav", "a WAV recording")
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return Sniffed("image", "image/heic", "a HEIC photo")
        if brand in _AUDIO_MP4_BRANDS:
            return Sniffed("voice", "audio/mp4", "an MP4 recording")
    # An MPEG audio frame without an ID3 tag: 11 sync bits, then a valid layer.
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06:
        return Sniffed("voice", "audio/mpeg", "an MP3 recording")
    return None


def check_upload(data: bytes, limits: AttachmentLimits) -> Sniffed:
    """What the upload is, once it is of a kind the store takes and within its size."""
    if not data:
        raise UploadRefused("The upload is empty.")
    found = sniff(data)
    if found is None:
        raise UploadTypeRefused(
            "This file is not a photo (JPEG, PNG, WebP, GIF, HEIC), a PDF or a voice "
            "recording (WebM, Ogg, MP4, MP3, WAV), whatever its name says."
        )
    if found.kind not in limits.kinds:
        raise UploadTypeRefused(f"This store does not take {_PLURAL[found.kind]}.")
    limit = limits.max_bytes(found.kind)
    if len(data) > limit:
        raise UploadTooLarge(
            f"{found.label[0].upper()}{found.label[1:]} can have at most {limit // MB} MB; "
            f"this one has {len(data) / MB:.1f} MB."
        )
    return found


_PLURAL: dict[Kind, str] = {"image": "photos", "file": "files (PDF)", "voice": "voice notes"}


def check_pdf(data: bytes) -> None:
    """A whole PDF, not encrypted: the header, the end-of-file marker near the end."""
    if not data.startswith(b"%PDF-"):
        raise UploadRefused("This is not a PDF.")
    if b"%%EOF" not in data[-1024:]:
        raise UploadRefused("This PDF is incomplete (it has no end); send it again.")
    if b"/Encrypt" in data:
        raise UploadRefused("This PDF is encrypted; send one without a password.")


def content_disposition(filename: str | None, *, download: bool) -> str:
    """`inline` or `attachment`, with the name in ASCII and in UTF-8 (RFC 6266)."""
    kind = "attachment" if download else "inline"
    if not filename:
        return kind
    ascii_name = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename)
    encoded = "".join(
        c
        if c.isascii() and (c.isalnum() or c in "-._~")
        else "".join(f"%{b:02X}" for b in c.encode())
        for c in filename
    )
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
