"""Photos: decoded under a pixel limit, orientation applied, re-encoded without any
metadata (EXIF, GPS, comments), and a thumbnail made. Runs in a worker thread."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from portside.domain.media import Processed, UploadRefused

# A 48-megapixel phone photo passes; a bomb that decodes to gigabytes does not.
MAX_PIXELS = 50_000_000
THUMBNAIL_PX = 320
JPEG_QUALITY = 85

_OUTPUT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def process_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Processed:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width * height > max_pixels:
                raise _bomb(width, height, max_pixels)
            source_format = opened.format or ""
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused(
            "This image decodes to far more pixels than a photo has (a decompression "
            "bomb); it was refused."
        ) from None
    except UnidentifiedImageError:
        raise UploadRefused(
            "This image cannot be read here (HEIC photos need converting to JPEG on "
            "this server, and damaged files cannot be read)."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UploadRefused("This image is damaged or incomplete; send it again.") from None
    out_format = _output_format(source_format, image)
    full = _encode(image, out_format)
    thumb_image = image.copy()
    thumb_image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    thumbnail = _encode(thumb_image, out_format)
    return Processed(
        kind="image",
        content_type=_OUTPUT[out_format],
        data=full,
        thumbnail=thumbnail,
        thumbnail_type=_OUTPUT[out_format],
        width=image.width,
        height=image.height,
    )


def _bomb(width: int, height: int, max_pixels: int) -> UploadRefused:
    return UploadRefused(
        f"This image is {width}x{height} pixels; at most {max_pixels // 1_000_000} "
        "megapixels are taken (larger ones can be decompression bombs)."
    )


def _output_format(source: str, image: Image.Image) -> str:
    """Photos stay JPEG (HEIC becomes JPEG), WebP stays WebP; screenshots, GIFs (their
    first frame) and anything with transparency become PNG."""
    if source == "WEBP":
        return "WEBP"
    if source in ("JPEG", "HEIF", "HEIC") and not _has_alpha(image):
        return "JPEG"
    return "PNG"


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _encode(image: Image.Image, out_format: str) -> bytes:
    if out_format == "JPEG":
        mode = "L" if image.mode in ("1", "L") else "RGB"
    else:
        mode = "RGBA" if _has_alpha(image) else "L" if image.mode in ("1", "L") else "RGB"
    image = image.convert(mode)
    # A fresh image: nothing of the original's info (EXIF, XMP, ICC, comments) follows.
    clean = Image.new(mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    if out_format == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif out_format == "WEBP":
        clean.save(out, "WEBP", quality=JPEG_QUALITY)
    else:
        clean.save(out, "PNG", optimize=True)
    return out.getvalue()
