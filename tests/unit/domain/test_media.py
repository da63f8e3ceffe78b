import pytest

from portside.domain.media import (
    AttachmentLimits,
    UploadRefused,
    UploadTooLarge,
    UploadTypeRefused,
    check_pdf,
    check_upload,
    content_disposition,
    sniff,
)
from tests.support import media_files


def test_types_are_told_by_content_not_by_name() -> None:
    assert sniff(media_files.jpeg_with_gps()).content_type == "image/jpeg"  # type: ignore[union-attr]
    assert sniff(media_files.png()).content_type == "image/png"  # type: ignore[union-attr]
    assert sniff(media_files.pdf()).kind == "file"  # type: ignore[union-attr]
    assert sniff(media_files.voice(1)).content_type == "audio/wav"  # type: ignore[union-attr]
    assert sniff(media_files.voice(1, "ogg")).content_type == "audio/ogg"  # type: ignore[union-attr]
    assert sniff(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16).content_type == "image/heic"  # type: ignore[union-attr]


def test_a_browser_recording_is_a_webm_voice_note() -> None:
    # What Chromium's MediaRecorder gives for `audio/webm;codecs=opus`.
    found = check_upload(media_files.browser_recording(1.0), AttachmentLimits())
    assert (found.kind, found.content_type) == ("voice", "audio/webm")
    with pytest.raises(UploadTypeRefused, match="voice notes"):
        check_upload(media_files.browser_recording(1.0), AttachmentLimits(kinds=("image",)))


def test_html_named_png_is_refused() -> None:
    with pytest.raises(UploadTypeRefused) as refused:
        check_upload(b"<!doctype html><script>alert(1)</script>", AttachmentLimits())
    assert refused.value.code == "upload_type_refused"


def test_a_pdf_is_a_file_whatever_it_is_named() -> None:
    # A PDF named photo.jpg is still a PDF: a store that takes photos only refuses it.
    assert check_upload(media_files.pdf(), AttachmentLimits()).kind == "file"
    with pytest.raises(UploadTypeRefused, match="files"):
        check_upload(media_files.pdf(), AttachmentLimits(kinds=("image",)))


def test_oversize_is_refused_by_kind() -> None:
    big = media_files.jpeg_with_gps() + b"\x00" * (2 * 1024 * 1024)
    with pytest.raises(UploadTooLarge, match="at most 1 MB"):
        check_upload(big, AttachmentLimits(max_image_mb=1))
    assert check_upload(big, AttachmentLimits(max_image_mb=3)).kind == "image"


def test_empty_upload_is_refused() -> None:
    with pytest.raises(UploadRefused):
        check_upload(b"", AttachmentLimits())


def test_pdf_checks() -> None:
    check_pdf(media_files.pdf())
    with pytest.raises(UploadRefused, match="encrypted"):
        check_pdf(media_files.pdf(encrypted=True))
    with pytest.raises(UploadRefused, match="incomplete"):
        check_pdf(media_files.pdf()[:60])


def test_content_disposition_keeps_unicode_names_safe() -> None:
    header = content_disposition('recibo "ñ".pdf', download=True)
    assert header.startswith('attachment; filename="recibo _ñ_.pdf"'.replace("ñ", "_"))
    assert "filename*=UTF-8''recibo%20%22%C3%B1%22.pdf" in header
    assert content_disposition(None, download=False) == "inline"
