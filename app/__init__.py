"""Stockroom: create_app() builds the web application in named steps."""
from __future__ import annotations

import logging

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import PROJECT_ROOT, load_config
from app.extensions import csrf, db, limiter, login_manager, migrate


class _SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        from flask import has_request_context, request

        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    app.config.update(load_config(config))
    app.instance_path = app.config["INSTANCE_DIR"]
    register_infrastructure(app)
    register_security(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_infrastructure(app: Flask) -> None:
    from app.core import database, timing
    from app.core.queue import redis_client, resolve_redis_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if offline_command():
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    else:
        resolve_redis_url(app.config)
        redis_url = app.config["REDIS_URL"]
        app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url.replace("unix://", "redis+unix://", 1))
        # The sign-in limits count through the app's own pool: one set of connections per process.
        client = app.extensions["stockroom_redis"] = redis_client(app.config)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"connection_pool": client.connection_pool})
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # While Redis restarts, limits are counted in this process instead of failing every page.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.session_interface = _SessionInterface()
    database.init_app(app)
    timing.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def register_security(app: Flask) -> None:
    from app.core.security import add_security_headers, make_files_private

    if not offline_command():  # `flask inbox read` touches no database or folder
        make_files_private(app.config)
    app.after_request(add_security_headers)


def offline_command(argv: list[str] | None = None) -> bool:
    """`flask inbox read` reads a file and standard input: it starts no Redis and opens no database."""
    import sys
    from pathlib import Path

    argv = sys.argv if argv is None else argv
    if not argv or Path(argv[0]).name not in ("flask", "__main__.py"):
        return False
    words = [a for a in argv[1:] if not a.startswith("-")]
    return any(words[i:i + 2] == ["inbox", "read"] for i in range(len(words)))


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    limiter.init_app(app)


def view_modules() -> list:
    """Every module with pages. Each defines `bp` or a list `blueprints`, and registers its nav
    entries and dashboard cards when imported (the nav order follows their `order`)."""
    from app.accounts import admin_views as account_admin
    from app.accounts import link_views as account_links
    from app.accounts import views as account
    from app.api import views as api
    from app.attention import views as attention
    from app.batches import views as batches
    from app.core import admin_views, auth_views, dashboard_views, events
    from app.inbox import views as inbox
    from app.inventory import views as inventory
    from app.listings import views as listings_views
    from app.orders import views as orders
    from app.pipeline import views as pipeline
    from app.techfiles import views as techfiles

    return [auth_views, dashboard_views, admin_views, events, inventory, techfiles, orders, pipeline, listings_views,
            batches, inbox, account, account_links, account_admin, api, attention]


def attention_modules() -> list:
    """Every module that publishes "needs a person" items (app.core.attention); each registers its
    sources when imported. Here, not in the core, because the core knows no domain."""
    from app.backups import attention as backups
    from app.batches import attention as batches
    from app.core import attention_sources as core
    from app.inbox import attention as inbox
    from app.inventory import attention as inventory
    from app.orders import attention as orders
    from app.pipeline import attention as pipeline

    return [pipeline, inbox, batches, inventory, orders, core, backups]


def register_blueprints(app: Flask) -> None:
    for module in view_modules():
        for blueprint in getattr(module, "blueprints", [module.bp]):
            app.register_blueprint(blueprint)
    attention_modules()


def register_errorhandlers(app: Flask) -> None:
    from app.core.errors import register_error_handlers
    from app.core.htmx import add_vary_header

    register_error_handlers(app)
    app.after_request(add_vary_header)


def register_template_helpers(app: Flask) -> None:
    from app.core import templating

    templating.init_app(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)
