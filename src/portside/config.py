"""Settings: built once at the entry point from PORTSIDE_* variables and passed down."""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


class SettingsError(ValueError):
    """A setting has a value Portside cannot use."""


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = 4000
    messages_per_10s: int = 20
    agent_messages_per_10s: int = 200
    connections_per_ip: int = 100
    new_visitors_per_minute_per_ip: int = 60
    logins_per_minute: int = 10
    heartbeat_s: float = 25.0
    hello_timeout_s: float = 10.0
    send_queue_frames: int = 2000
    # Agents' replies by email to shoppers who left (services/email_out.py): how long a
    # reply waits for the shopper to come back and see it live, and the tries to send it
    # (the waits between them grow from email_retry_s, times four each time).
    email_delay_s: float = 30.0
    email_retry_s: float = 10.0
    email_attempts: int = 4
    # Shoppers' answers by email (services/email_in.py): the largest raw message taken,
    # and how many a store takes a minute.
    inbound_email_bytes: int = 5_000_000
    inbound_emails_per_minute: int = 120
    # Order webhooks (services/orders_in.py): the largest body taken, and how many an
    # address may post a minute (signed or not: refusals count too).
    webhook_bytes: int = 2_000_000
    webhooks_per_minute_per_ip: int = 600
    # Shopping-behaviour events (services/tracking.py): per visitor, over the socket and
    # by beacon together; and beacon requests per address.
    track_events_per_10s: int = 200
    beacons_per_minute_per_ip: int = 300
    # Attachments (services/attachments.py): uploads per shopper or agent and per
    # address, how long a file's signed URL lasts, and how many uploads are decoded
    # at once (each in a worker thread).
    uploads_per_minute: int = 20
    uploads_per_minute_per_ip: int = 60
    file_url_s: int = 300
    media_workers: int = 2
    # Connections a node keeps open to PostgreSQL, and as many again at a peak: the
    # nodes together must stay under the server's max_connections (docs/deploy.md).
    database_pool: int = 20
    # Shoppers' turns left unanswered (their node died): answered by another node once
    # they are this old (services/turn_recovery.py); 600 or more: never.
    turn_recovery_s: float = 15.0
    # A `pending` email untouched this long past its next try was cut off (its node
    # died): another node sends it (services/email_resend.py).
    email_stalled_s: float = 120.0


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = ""
    redis_url: str = ""
    public_url: str = ""
    # The AI agent: "embedded" (the default, no API key, no network) or "off".
    agent: str = "embedded"
    limits: Limits = field(default_factory=Limits)
    # A directory of Argos Translate packages (.argosmodel files) stores may translate
    # with; None: no Argos on this server (ai/argos.py).
    argos_packages: Path | None = None
    # A directory holding a converted faster-whisper model stores may transcribe voice
    # notes with; None: none on this server (ai/speech.py).
    whisper_model_dir: Path | None = None
    visitor_token_days: int = 365
    session_hours: int = 12
    # A bearer token /metrics asks for; without one, it answers loopback clients only.
    metrics_token: str = ""
    # S3-compatible storage for attachments; without a bucket, files are kept under
    # data_dir/files (files/local.py, files/s3.py).
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""
    # After SIGTERM, how long /readyz answers 503 (so a load balancer stops sending new
    # clients) before the node closes its sockets and stops (serving.py). 0: at once.
    drain_s: float = 5.0
    # Reverse proxies (addresses or networks) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed: the client address rate limits count, and https.
    trusted_proxies: tuple[str, ...] = ()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'portside.db'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        limits = Limits(
            **{  # type: ignore[arg-type]
                name: _number(env, f"PORTSIDE_{name.upper()}", default)
                for name, default in Limits().__dict__.items()
            }
        )
        settings = cls(
            data_dir=Path(env.get("PORTSIDE_DATA_DIR", "data")),
            database_url=_database_url(env.get("PORTSIDE_DATABASE_URL", "")),
            secret_key=env.get("PORTSIDE_SECRET_KEY", ""),
            redis_url=env.get("PORTSIDE_REDIS_URL", ""),
            public_url=env.get("PORTSIDE_PUBLIC_URL", "").rstrip("/"),
            agent=_agent(env.get("PORTSIDE_AGENT", "embedded")),
            argos_packages=Path(env["PORTSIDE_ARGOS_PACKAGES"])
            if env.get("PORTSIDE_ARGOS_PACKAGES")
            else None,
            whisper_model_dir=Path(env["PORTSIDE_WHISPER_MODEL_DIR"])
            if env.get("PORTSIDE_WHISPER_MODEL_DIR")
            else None,
            limits=limits,
            metrics_token=env.get("PORTSIDE_METRICS_TOKEN", "").strip(),
            **{name: env.get(f"PORTSIDE_{name.upper()}", "").strip() for name in S3_SETTINGS},  # type: ignore[arg-type]
            drain_s=_seconds(env, "PORTSIDE_DRAIN_S", 5.0),
            trusted_proxies=_trusted_proxies(env.get("PORTSIDE_TRUSTED_PROXIES", "")),
        )
        return replace(settings, **overrides)  # type: ignore[arg-type]

    def with_secret(self) -> Settings:
        """Settings with a secret key: the given one, or one kept in the data directory."""
        if self.secret_key:
            return self
        path = self.data_dir / "secret.key"
        if path.exists():
            return replace(self, secret_key=path.read_text().strip())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        tmp = path.with_suffix(".tmp")
        # Created readable by its owner only, never for a moment by anyone else.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key)
        tmp.replace(path)
        return replace(self, secret_key=key)


S3_SETTINGS = (
    "s3_bucket",
    "s3_endpoint_url",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_prefix",
)


def _number(env: Mapping[str, str], name: str, default: int | float) -> int | float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = type(default)(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    # float() accepts "nan" and "inf", which no limit or interval can use.
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be a positive number, got {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A duration that may be zero (unlike the limits)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} must be 0 or more seconds, got {raw!r}")
    return value


def _trusted_proxies(raw: str) -> tuple[str, ...]:
    """Addresses and networks, comma-separated: `127.0.0.1`, `10.0.0.0/8`, `::1`."""
    proxies = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(
                "PORTSIDE_TRUSTED_PROXIES must list IP addresses or networks separated by "
                f"commas (like 127.0.0.1,10.0.0.0/8), got {item!r}"
            ) from None
    return tuple(proxies)


def _database_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers."""
    if not url:
        return ""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite+aiosqlite:///"):
        return "sqlite:///" + url[len("sqlite+aiosqlite:///") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite:///")):
        return url
    raise SettingsError(
        "PORTSIDE_DATABASE_URL must start with postgresql:// or sqlite:///, "
        f"got {url.split(':')[0]}:"
    )


def _agent(value: str) -> str:
    value = value.strip().lower() or "embedded"
    if value not in ("embedded", "off"):
        raise SettingsError(f"PORTSIDE_AGENT must be embedded or off, not {value!r}.")
    return value
