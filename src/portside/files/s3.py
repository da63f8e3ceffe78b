"""The FileStore port on S3-compatible object storage (AWS S3, MinIO, Ceph, R2...),
configured by the PORTSIDE_S3_* settings. boto3 is synchronous: each call runs in a
worker thread. URLs are the storage's own presigned GETs, so the bytes never pass
through Portside. `origin` is where those URLs point: the console's and widget's
Content-Security-Policy must allow it (web/security.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from portside.domain.media import content_disposition
from portside.files.local import check_key


@dataclass(frozen=True)
class S3Location:
    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    prefix: str = ""


class S3FileStore:
    def __init__(self, location: S3Location) -> None:
        self.location = location
        self._client: Any = _client(
            location,
            signature_version="s3v4",
            retries={"max_attempts": 3},
            aws_access_key_id=location.access_key_id or None,
            aws_secret_access_key=location.secret_access_key or None,
        )
        # Where presigned URLs point, built by boto3 itself (an unsigned client needs
        # no credentials and makes no request).
        unsigned = _client(location, signature_version=UNSIGNED)
        self.origin: str | None = _origin_of(
            unsigned.generate_presigned_url(
                "get_object", Params={"Bucket": location.bucket, "Key": "k"}, ExpiresIn=60
            )
        )

    def _key(self, key: str) -> str:
        return self.location.prefix + check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.location.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            try:
                answer = self._client.get_object(Bucket=self.location.bucket, Key=self._key(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    raise FileNotFoundError(key) from None
                raise
            body: bytes = answer["Body"].read()
            return body

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self._client.delete_object, Bucket=self.location.bucket, Key=self._key(key)
        )

    async def url(self, key: str, expires_s: int, filename: str | None) -> str | None:
        params: dict[str, str] = {"Bucket": self.location.bucket, "Key": self._key(key)}
        if filename is not None:
            params["ResponseContentDisposition"] = content_disposition(filename, download=True)
        url: str = await asyncio.to_thread(
            self._client.generate_presigned_url,
            "get_object",
            Params=params,
            ExpiresIn=expires_s,
        )
        return url


def _origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (presigning is local: no request is made)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _client(
    location: S3Location,
    *,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    **config: Any,
) -> Any:
    # On AWS (no endpoint), the bucket's regional virtual host
    # (https://<bucket>.s3.<region>.amazonaws.com): boto3 would otherwise presign for
    # the global one, which redirects for buckets outside us-east-1 (and a page's
    # Content-Security-Policy would have to allow both). For other S3-compatible
    # storage (an endpoint), boto3's choice: path style, <endpoint>/<bucket>/<key>.
    if not location.endpoint_url:
        config["s3"] = {"addressing_style": "virtual"}
    return boto3.session.Session().client(
        "s3",
        endpoint_url=location.endpoint_url or None,
        region_name=location.region or None,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        config=Config(**config),
    )
