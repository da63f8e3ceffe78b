"""Where an S3 file store's presigned URLs point (its `origin`, for the pages' CSP):
computed by boto3 without credentials or a request, and the same as the URLs it signs."""

from __future__ import annotations

import pytest

from portside.files.s3 import S3FileStore, S3Location

KEYS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "secret"}


@pytest.mark.parametrize(
    ("location", "origin"),
    [
        # AWS: the bucket's regional virtual host, never the global one that redirects.
        (
            S3Location(bucket="shop-files", region="eu-west-1"),
            "https://shop-files.s3.eu-west-1.amazonaws.com",
        ),
        (S3Location(bucket="shop-files"), "https://shop-files.s3.amazonaws.com"),
        # A dotted name cannot be a virtual host under TLS: path style, regional host.
        (
            S3Location(bucket="files.shop.example", region="ap-east-1"),
            "https://s3.ap-east-1.amazonaws.com",
        ),
        # An S3-compatible server: its endpoint, path style.
        (S3Location(bucket="b", endpoint_url="http://127.0.0.1:9000"), "http://127.0.0.1:9000"),
        (
            S3Location(bucket="b", endpoint_url="https://minio.example.com/storage"),
            "https://minio.example.com",
        ),
    ],
)
async def test_the_origin_is_where_presigned_urls_point(location: S3Location, origin: str) -> None:
    assert S3FileStore(location).origin == origin
    signed = S3FileStore(S3Location(**{**location.__dict__, **KEYS}))
    url = await signed.url("s1/202612/abc", 300, None)
    assert url is not None
    assert url.startswith(f"{origin}/")
    assert "X-Amz-Signature=" in url
