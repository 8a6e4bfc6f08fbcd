"""The application factory: settings, database, routes, static files and error handling."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import db
from api.config import Settings, get_settings
from api.errors import install_error_handlers
from api.health.router import router as health_router
from api.middleware import AccessLogMiddleware, LocaleMiddleware
from web.pages.home import router as home_router
from web.templating import STATIC_DIR


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build a Kern application for the given (or the environment's) settings."""
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    engine = db.make_engine(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Kern",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)

    install_error_handlers(app)
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(AccessLogMiddleware)

    app.include_router(health_router)
    app.include_router(home_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
