"""The reference deployment in deploy/ (docs/deploy.md): every setting it names is real,
nginx and systemd accept its files, and a rolling restart through its nginx site drops
no request and loses no message."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from portside.config import Settings
from portside.realtime.protocol import Close
from tests.support.clients import WsClient, client_id
from tests.support.cluster import NODE_ENV
from tests.support.factories import make_store, services_for
from tests.support.server import POSTGRES_URL, REDIS_URL, LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


class _Reads(dict[str, str]):
    """An empty environment that notes every variable asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return False


def real_settings() -> set[str]:
    """Every PORTSIDE_* variable Portside reads, as Settings.from_env asks for them."""
    env = _Reads()
    Settings.from_env(env)
    return {name for name in env.asked if name.startswith("PORTSIDE_")}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def named_settings(text: str) -> set[str]:
    """The PORTSIDE_* variables a text names (not the tests' own, nor `PORTSIDE_S3_*`)."""
    found = re.findall(r"\bPORTSIDE_[A-Z0-9_]*[A-Z0-9]\b(?!_?\*)", text)
    return {name for name in found if not name.startswith("PORTSIDE_TEST_")}


def test_real_settings_are_found() -> None:
    settings = real_settings()
    assert {"PORTSIDE_DATABASE_URL", "PORTSIDE_REDIS_URL", "PORTSIDE_SECRET_KEY"} <= settings
    assert {"PORTSIDE_DRAIN_S", "PORTSIDE_TRUSTED_PROXIES", "PORTSIDE_HEARTBEAT_S"} <= settings


def test_compose_sets_only_real_settings() -> None:
    services = compose()["services"]
    nodes = {name: s for name, s in services.items() if name.startswith("portside-")}
    assert len(nodes) >= 2
    for name, service in services.items():
        environment = service.get("environment") or {}
        unknown = {key for key in environment if key.startswith("PORTSIDE_")} - real_settings()
        assert not unknown, f"{name} sets {unknown}, which Portside does not read"
    for node in nodes.values():
        # The cluster's settings, the same on every node (one YAML anchor).
        assert node["environment"] == services["migrate"]["environment"]
        for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "METRICS_TOKEN"):
            assert f"PORTSIDE_{key}" in node["environment"]
        assert node["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "readyz" in " ".join(node["healthcheck"]["test"])


def test_compose_migrates_once_and_nodes_do_not() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["portside", "migrate"]
    assert services["migrate"]["restart"] == "no"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert '"serve"' in dockerfile and '"--no-migrate"' in dockerfile
    assert re.search(r"^USER portside$", dockerfile, re.MULTILINE)
    build = services["portside-1"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_compose_nginx_reaches_the_nodes_it_names() -> None:
    services = compose()["services"]
    for volume in services["nginx"]["volumes"]:
        source = volume.split(":", 1)[0]
        assert (DEPLOY / source).is_file(), source
    upstream = (DEPLOY / "nginx" / "portside-compose.conf").read_text()
    for name in ("portside-1", "portside-2"):
        address = services[name]["networks"]["portside"]["ipv4_address"]
        assert f"server {address}:8000 " in upstream
    trusted = services["portside-1"]["environment"]["PORTSIDE_TRUSTED_PROXIES"]
    assert trusted == services["nginx"]["networks"]["portside"]["ipv4_address"]


@pytest.mark.parametrize(
    "path", ["deploy/systemd/portside.env", "deploy/env.example", "docs/deploy.md"]
)
def test_deployment_files_and_docs_name_only_real_settings(path: str) -> None:
    named = named_settings((ROOT / path).read_text())
    assert named <= real_settings(), f"{path} names {named - real_settings()}"


def test_docs_list_every_setting() -> None:
    documented = named_settings((ROOT / "docs" / "operating.md").read_text())
    assert real_settings() <= documented, real_settings() - documented


def nginx_site(tmp_path: Path, site: str, replace: dict[str, str] | None = None) -> Path:
    """A main nginx.conf in tmp_path that includes deploy/nginx/`site` (edited by
    `replace`) as Debian's does conf.d/, with the snippet where Debian keeps it."""
    (tmp_path / "snippets").mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "nginx" / "portside-locations.conf", tmp_path / "snippets")
    text = (DEPLOY / "nginx" / site).read_text()
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / site).write_text(text)
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / temp).mkdir(exist_ok=True)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"daemon off;\npid {tmp_path / 'nginx.pid'};\nerror_log stderr;\n"
        "events {}\nhttp {\n  access_log off;\n"
        + "".join(f"  {temp}_temp_path {tmp_path / temp};\n" for temp in ("client_body", "proxy"))
        + "".join(
            f"  {temp}_temp_path {tmp_path / temp};\n" for temp in ("fastcgi", "uwsgi", "scgi")
        )
        + f"  include {tmp_path / site};\n}}\n"
    )
    return main


@pytest.mark.skipif(NGINX is None, reason="needs nginx (apt-get install nginx)")
@pytest.mark.parametrize("site", ["portside.conf", "portside-compose.conf"])
def test_nginx_accepts_the_sites(tmp_path: Path, site: str) -> None:
    assert NGINX is not None
    main = nginx_site(tmp_path, site)
    result = subprocess.run(
        [NGINX, "-t", "-p", f"{tmp_path}/", "-c", str(main), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    portside = Path(sys.executable).with_name("portside")
    for unit in ("portside@.service", "portside-migrate.service"):
        text = (DEPLOY / "systemd" / unit).read_text()
        # The command must exist where systemd-analyze looks: this checkout's.
        (tmp_path / unit).write_text(text.replace("/opt/portside/venv/bin/portside", str(portside)))
    (tmp_path / "portside@8001.service").symlink_to(tmp_path / "portside@.service")
    result = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "verify",
            str(tmp_path / "portside@8001.service"),
            str(tmp_path / "portside-migrate.service"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


# The rolling restart, through the reference nginx site.


@contextlib.contextmanager
def nginx_in_front_of(tmp_path: Path, ports: list[int]) -> Iterator[str]:
    assert NGINX is not None
    port = free_port()
    main = nginx_site(
        tmp_path,
        "portside.conf",
        {
            "listen 80;": f"listen 127.0.0.1:{port};",
            "listen [::]:80;": "",
            "server 127.0.0.1:8001 ": f"server 127.0.0.1:{ports[0]} ",
            "server 127.0.0.1:8002 ": f"server 127.0.0.1:{ports[1]} ",
        },
    )
    log = tmp_path / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [NGINX, "-p", f"{tmp_path}/", "-c", str(main), "-e", "stderr"],
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            assert process.poll() is None, log.read_text()
            threading.Event().wait(0.05)
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Pinger(threading.Thread):
    """GETs through nginx, one after another, counting every answer that is not a 200."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.done = threading.Event()
        self.ok = 0
        self.failed: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self.done.is_set():
                try:
                    response = http.get(self.url)
                except httpx.HTTPError as exc:
                    self.failed.append(repr(exc))
                else:
                    if response.status_code == 200:
                        self.ok += 1
                    else:
                        self.failed.append(f"{response.status_code} {response.text[:200]}")
                self.done.wait(0.02)


class Shopper:
    """A widget through nginx that reconnects and resumes, as widget.js does."""

    def __init__(self, ws_url: str, store_key: str, origin: str) -> None:
        self.url = f"{ws_url}/ws/widget?store={store_key}"
        self.origin = origin
        self.token: str | None = None
        self.conversation_id: int | None = None
        self.seqs: list[int] = []
        self.texts: list[str] = []
        self.client: WsClient | None = None
        self._stack = contextlib.AsyncExitStack()

    async def connect(self) -> None:
        for _ in range(100):
            try:
                ws = await self._stack.enter_async_context(
                    connect(self.url, origin=self.origin)  # type: ignore[arg-type]
                )
            except (OSError, InvalidHandshake, InvalidStatus):
                await asyncio.sleep(0.1)
                continue
            self.client = WsClient(ws)
            hello: dict[str, Any] = {}
            if self.token:
                hello["token"] = self.token
            if self.conversation_id is not None:
                hello.update(conversation_id=self.conversation_id, last_seq=self.last_seq)
            try:
                await self.client.send(type="hello", **hello)
                welcome = await self.client.expect("welcome")
            except (ConnectionClosed, TimeoutError):
                await asyncio.sleep(0.1)
                continue
            self.token = welcome["visitor"]["token"]
            return
        raise AssertionError("the shopper could not reconnect through nginx")

    @property
    def last_seq(self) -> int:
        return max(self.seqs, default=0)

    async def say(self, text: str) -> None:
        assert self.client is not None
        await self.client.send(type="message.send", client_id=client_id(), text=text)
        ack = await self.client.expect("ack")
        self.conversation_id = ack["conversation_id"]
        await self.read_until(lambda: text in self.texts)

    async def read_until(self, done: Any) -> None:
        assert self.client is not None
        while not done():
            event = (await self.client.expect("event", timeout=15))["event"]
            self.seqs.append(event["seq"])
            if event["type"] == "message.created":
                self.texts.append(event["data"]["text"])

    async def closed_with(self) -> int | None:
        assert self.client is not None
        code = await self.client.closed_with(timeout=60)
        for frame in self.client.backlog:
            if frame["type"] == "event":
                self.seqs.append(frame["event"]["seq"])
        return code

    async def aclose(self) -> None:
        await self._stack.aclose()


def restart(node: LiveServer) -> None:
    """As systemd's restart does: SIGTERM, wait for the exit, start, wait for /readyz."""
    assert node.process is not None
    node.process.send_signal(signal.SIGTERM)
    node.process.wait(timeout=60)
    node.process = None
    node.start()


@pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL and NGINX),
    reason="needs PORTSIDE_TEST_POSTGRES_URL, PORTSIDE_TEST_REDIS_URL and nginx",
)
async def test_rolling_restart_through_nginx_drops_nothing(tmp_path: Path) -> None:
    Settings.from_env({"PORTSIDE_DATA_DIR": str(tmp_path)}).with_secret()  # shared key
    nodes = [
        LiveServer(
            data_dir=tmp_path,
            database_url=POSTGRES_URL,
            env={
                # Limits are counted in Redis, together with every other test's nodes:
                # raised, as for every cluster of the suite.
                **NODE_ENV,
                "PORTSIDE_REDIS_URL": REDIS_URL,
                "PORTSIDE_AGENT": "off",
                "PORTSIDE_TRUSTED_PROXIES": "127.0.0.1",
                # Longer than nginx's fail_timeout (2 s), as docs/deploy.md says.
                "PORTSIDE_DRAIN_S": "3",
            },
            port=free_port(),
        )
        for _ in range(2)
    ]
    pinger: Pinger | None = None
    reconnects = 0
    try:
        for node in nodes:
            await asyncio.to_thread(node.start)
        with nginx_in_front_of(tmp_path / "nginx", [node.port for node in nodes]) as site:
            async with services_for(POSTGRES_URL, tmp_path) as svc:
                store = await make_store(svc, origin=site, agents=0)
            shopper = Shopper(site.replace("http://", "ws://"), store.widget_key, site)
            try:
                await shopper.connect()
                await shopper.say("before the restart")
                pinger = Pinger(f"{site}/healthz")
                pinger.start()
                for number, node in enumerate(nodes):
                    await asyncio.to_thread(restart, node)
                    # The node the shopper was on closed its socket with "restarting":
                    # it comes back through nginx and resumes where it was.
                    if await _was_closed(shopper):
                        reconnects += 1
                        await shopper.connect()
                    await shopper.say(f"after restart {number + 1}")
            finally:
                await shopper.aclose()
            pinger.done.set()
            pinger.join(timeout=15)
    finally:
        if pinger is not None:
            pinger.done.set()
        for node in nodes:
            node.stop()
    assert pinger.failed == [], pinger.failed
    assert pinger.ok > 0
    # Its node went away once at least (each did, one after the other).
    assert reconnects >= 1
    assert shopper.texts == ["before the restart", "after restart 1", "after restart 2"]
    # Every event once, in order, none missing.
    assert shopper.seqs == list(range(1, len(shopper.seqs) + 1)), json.dumps(shopper.seqs)


async def _was_closed(shopper: Shopper) -> bool:
    """Whether the shopper's node closed its socket (with 1012, the only code it may)."""
    assert shopper.client is not None
    if shopper.client.ws.close_code is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(shopper.client.ws.wait_closed()), 0.5)
    if shopper.client.ws.close_code is None:
        return False
    assert await shopper.closed_with() == Close.RESTARTING
    return True
