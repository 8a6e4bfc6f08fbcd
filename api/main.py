"""The application factory: settings, database, routes, static files and error handling."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from api import db
from api.accounts.router import router as accounts_api
from api.catalog.router import router as catalog_api
from api.compression import CompressionMiddleware
from api.config import Settings, get_settings
from api.consent.router import router as consent_api
from api.errors import UnexpectedErrorMiddleware, install_error_handlers
from api.health.router import router as health_router
from api.kit.threads import use_threads
from api.mail import templating as mail_templating
from api.middleware import AccessLogMiddleware, LocaleMiddleware, RequestSlots
from api.payments.router import router as payments_api
from api.practice_identity.cache import IdentityCache
from api.progress.router import router as progress_api
from api.push.router import router as push_api
from api.questionnaires.router import router as questionnaires_api
from api.security.body_limit import BodyLimitMiddleware
from api.security.csrf import CsrfCookieMiddleware, verify_csrf
from api.security.headers import SecurityHeadersMiddleware
from api.static_files import CompressedStatic, VersionedStaticFiles
from api.worker import Worker, start_in_thread
from web import errors as web_errors
from web import templating
from web.pages.account import router as account_pages
from web.pages.articles import router as article_pages
from web.pages.auth import router as auth_pages
from web.pages.catalog import router as catalog_pages
from web.pages.certificates import router as certificate_pages
from web.pages.checkins import router as checkin_pages
from web.pages.common import busiest as busiest_pages
from web.pages.consent import router as consent_pages
from web.pages.conversations import router as conversation_pages
from web.pages.home import router as home_pages
from web.pages.intake import router as intake_pages
from web.pages.invoices import router as invoice_pages
from web.pages.journal import router as journal_pages
from web.pages.links import router as link_pages
from web.pages.mail_preferences import router as mail_preferences_pages
from web.pages.media import router as media_pages
from web.pages.payments import router as payments_pages
from web.pages.privacy import router as privacy_pages
from web.pages.progress import router as progress_pages
from web.pages.selftest import router as selftest_pages
from web.pages.seo import router as seo_pages
from web.pages.shell import router as shell_pages
from web.pages.studio import router as studio_pages
from web.pages.studio.uploads import upload_paths
from web.pages.terms import router as terms_pages
from web.templating import STATIC_DIR

# The order routes are tried in: the busiest first (see create_app).
ROUTERS = (
    busiest_pages,
    health_router,
    catalog_pages,
    progress_pages,
    progress_api,
    home_pages,
    catalog_api,
    accounts_api,
    consent_api,
    payments_api,
    questionnaires_api,
    push_api,
    auth_pages,
    link_pages,
    account_pages,
    consent_pages,
    privacy_pages,
    terms_pages,
    invoice_pages,
    mail_preferences_pages,
    media_pages,
    payments_pages,
    studio_pages,
    selftest_pages,
    checkin_pages,
    journal_pages,
    conversation_pages,
    intake_pages,
    shell_pages,
    certificate_pages,
    article_pages,
    seo_pages,
)


# The longest a starting worker waits for the practice's identity before it serves anyway.
IDENTITY_WAIT_SECONDS = 5


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build a Kern application for the given (or the environment's) settings."""
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    engine = db.make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        kept=settings.request_slots,
        statement_timeout=settings.db_statement_timeout,
    )
    templating.configure(development=settings.app_env == "development")
    mail_templating.configure(development=settings.app_env == "development")
    https = settings.base_url.startswith("https://")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync routes and dependencies run on these threads; with RequestSlots no more than this
        # can be busy, and fewer threads keep the worker's memory down (40 by default).
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2 * settings.request_slots
        # The busiest routes hand their work to the loop's own executor (api/kit/threads.py).
        use_threads(2 * settings.request_slots)
        # The footer's copy of the practice's identity: read before the first request, then
        # kept fresh on a thread (api/practice_identity/cache.py says why not per request). A
        # database that does not answer must not hold up the start: after a few seconds the
        # worker serves without it, and the read that is still under way fills it in later.
        identity: IdentityCache = app.state.practice_identity
        with anyio.move_on_after(IDENTITY_WAIT_SECONDS):
            await anyio.to_thread.run_sync(identity.load, app.state.engine, abandon_on_cancel=True)
        stop_identity = identity.keep_fresh(app.state.engine)
        stop_worker = None
        if settings.runs_mail_worker:
            mail_worker = Worker(
                app.state.sessionmaker, settings, poll_seconds=settings.mail_poll_seconds
            )
            stop_worker = start_in_thread(mail_worker)
        try:
            yield
        finally:
            if stop_worker is not None:
                stop_worker()
            stop_identity()
            engine.dispose()

    app = FastAPI(
        title="Kern",
        version="0.1.0",
        # The interactive docs load scripts from a CDN, which the CSP (rightly) forbids;
        # the machine-readable description stays available.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        # Every unsafe request, page or API, must carry the CSRF token (webhooks exempt).
        dependencies=[Depends(verify_csrf)],
        # FastAPI's bridge to OpenTelemetry, off: Kern sends no traces, metrics or logs about
        # its visitors anywhere, whatever a host's environment configures, and no request
        # asks again whether a provider has been set up (docs/performance.md#no-telemetry).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.practice_identity = IdentityCache()

    install_error_handlers(app)
    web_errors.install(app)
    # Added innermost first: the access log sees everything, crashes are answered inside the
    # security headers. A body over its limit is refused before anything inside reads it (the
    # CSRF check reads forms), in the visitor's language and with her CSRF cookie.
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(BodyLimitMiddleware, uploads=upload_paths(ROUTERS))
    app.add_middleware(CsrfCookieMiddleware, production=settings.is_production, secure=https)
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=https)
    app.add_middleware(RequestSlots, slots=settings.request_slots)
    # Pages and JSON go gzipped; the CSRF token in a page is masked for each response (BREACH).
    # Outside the slots: a request has given its slot back before its body is compressed.
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(AccessLogMiddleware)

    # FastAPI (since 0.137) tries the included routers one after another and matches each one's
    # routes twice, so a route's cost grows with the routes tried before it. The pages a learner
    # opens every day and the API calls of the exercise player therefore come first
    # (docs/performance.md#router-order). No two routers share a path, so the order changes
    # nothing else (tests/test_routes_order.py).
    for router in ROUTERS:
        app.include_router(router)
    # CSS and JavaScript go compressed at zlib's best, once per process (api/static_files.py);
    # what is not kept so goes through GZipMiddleware as it is. Files offer byte ranges, which
    # CompressionMiddleware leaves alone.
    static = CompressedStatic(
        GZipMiddleware(VersionedStaticFiles(directory=STATIC_DIR), minimum_size=500),
        STATIC_DIR,
        keep=settings.app_env != "development",
    )
    app.state.static_files = static
    app.mount("/static", static, name="static")
    return app
