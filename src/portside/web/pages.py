"""Pages: the demo store, the console's shell, the widget script, health checks."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from portside.errors import Forbidden
from portside.readiness import Readiness
from portside.services import catalog
from portside.services.demo import DEMO_STORE_KEY
from portside.services.demo_checkout import do_demo_checkout
from portside.web.deps import ServicesDep, client_address

router = APIRouter(include_in_schema=False)

WEB = files("portside.web")
STATIC_DIR = str(WEB / "static")
templates = Jinja2Templates(directory=str(WEB / "templates"))


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/demo/")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers (nothing else is checked): restart it if this fails."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Whether to send this node new clients, each check named (readiness.py)."""
    readiness: Readiness = request.app.state.readiness
    answer = await readiness.check()
    return JSONResponse(
        answer.body,
        status_code=200 if answer.ready else 503,
        headers={"Cache-Control": "no-store"},
    )


def _widget_script(name: str) -> FileResponse:
    return FileResponse(
        f"{STATIC_DIR}/{name}",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/widget.js")
async def widget_js() -> FileResponse:
    return _widget_script("widget.js")


@router.get("/widget-media.js")
async def widget_media_js() -> FileResponse:
    """The widget's attachments (photos, PDFs, voice notes), loaded by widget.js on demand."""
    return _widget_script("widget-media.js")


@router.get("/widget-voice.js")
async def widget_voice_js() -> FileResponse:
    """The widget's voice recorder, loaded by widget-media.js when the microphone is pressed."""
    return _widget_script("widget-voice.js")


@router.get("/console")
async def console_redirect() -> RedirectResponse:
    return RedirectResponse("/console/")


@router.get("/console/")
async def console() -> FileResponse:
    return FileResponse(
        f"{STATIC_DIR}/console/index.html",
        media_type="text/html",
        headers={"Cache-Control": "no-cache"},
    )


async def _demo(request: Request, svc: Any, page: str, **context: Any) -> Response:
    store = await catalog.find_store_by_key(svc, DEMO_STORE_KEY)
    if store is None:
        return HTMLResponse(
            "<!doctype html><title>No demo store</title><h1>No demo store yet</h1>"
            "<p>Run <code>portside demo</code> (or <code>make run</code>) to create it.</p>",
            status_code=404,
        )
    products = await catalog.list_products(svc, store.id)
    return templates.TemplateResponse(
        request,
        f"demo/{page}.html",
        {"store": store, "products": products, "widget_src": "/widget.js", "page": page, **context},
    )


@router.get("/demo")
async def demo_redirect() -> RedirectResponse:
    return RedirectResponse("/demo/")


@router.get("/demo/")
async def demo_index(request: Request, svc: ServicesDep) -> Response:
    return await _demo(request, svc, "index", product=None)


@router.get("/demo/products/{slug}")
async def demo_product(slug: str, request: Request, svc: ServicesDep) -> Response:
    store = await catalog.find_store_by_key(svc, DEMO_STORE_KEY)
    product = await catalog.get_product(svc, store.id, slug) if store else None
    return await _demo(request, svc, "product", product=product)


@router.get("/demo/cart")
async def demo_cart(request: Request, svc: ServicesDep) -> Response:
    return await _demo(request, svc, "cart", product=None)


@router.post("/demo/checkout")
async def demo_checkout(request: Request, svc: ServicesDep) -> dict[str, Any]:
    """The demo shop's checkout: the order is stored and credited like a webhook's."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("The demo checkout takes orders from the demo shop's own pages only.")
    try:
        body = await request.json()
    except ValueError:
        body = None
    return await do_demo_checkout(svc, body, address=client_address(request))
