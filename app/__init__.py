"""The app factory: config, extensions, blueprints, CLI and error handlers. It starts no threads."""
from __future__ import annotations

from apiflask import APIFlask
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import api, database, errors, i18n, input_guard, labels, layout, security_headers, webhooks
from app.extensions import bootstrap, csrf, db, login_manager, migrate
from app.services import login_throttle
from app.worker import dispatch
from config import BASE_DIR, Config, config_from_env, tuning_from_env


class Botfleet(APIFlask):
    """APIFlask that serves Telegram's webhook (POST /tg/<bot_id>) ahead of Flask's request dispatch (app/webhooks
    says why); every other request goes through Flask. ProxyFix (_trust_proxies) wraps this, so the webhook sees the
    client's scheme as well."""

    def wsgi_app(self, environ, start_response):
        bot_id = webhooks.bot_id_of(environ)
        if bot_id is None:
            return super().wsgi_app(environ, start_response)
        return webhooks.serve(self, bot_id, environ, start_response)


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    config_class = config_class or config_from_env()
    # APIFlask is Flask plus the OpenAPI document of the /api/v1 blueprint; its JSON errors stay off
    # so dashboard pages keep their HTML error pages (the API blueprint has its own problem+json handlers).
    app = Botfleet(
        __name__,
        instance_path=str(BASE_DIR / "instance"),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        title="Botfleet API", version="v1", spec_path="/api/v1/openapi.json", docs_path="/api/v1/docs",
        docs_oauth2_redirect_path=None, json_errors=False,
    )
    api.configure(app)
    app.config.from_object(config_class)
    app.config.update(tuning_from_env())
    app.config.update(overrides)
    config_class.init_app(app)
    _trust_proxies(app)

    database.init_app(app)
    dispatch.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    i18n.init_app(app)
    layout.init_app(app)
    labels.init_app(app)
    _register_blueprints(app)
    errors.init_app(app)
    input_guard.init_app(app)
    login_throttle.init_app(app)
    security_headers.init_app(app)
    from app import cli
    cli.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from app.auth import bp as auth_bp
    from app.health import bp as health_bp
    from app.main import bp as main_bp
    from app.pay import bp as pay_bp
    from app.sandbox_chat import bp as sandbox_chat_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(pay_bp)
    app.register_blueprint(sandbox_chat_bp)
    api.init_app(app)
    _register_dashboard(app)


def _register_dashboard(app: Flask) -> None:
    """The tenant-owner dashboard: one blueprint package per area."""
    from app import (
        audit,
        bank,
        bot_admin,
        broadcasts,
        cards,
        chats,
        exports,
        imports,
        integrations,
        leaderboard,
        members,
        online,
        overview,
        panels,
        plans,
        platform,
        promocodes,
        receipts,
        staff,
        tenant_settings,
        tickets,
        wallet,
    )

    for area in (overview, bot_admin, plans, panels, chats, cards, online, receipts, bank, tickets, members, leaderboard, wallet,
                 promocodes, broadcasts, audit, staff, tenant_settings, exports, imports, integrations, platform):
        app.register_blueprint(area.bp)


def _trust_proxies(app: Flask) -> None:
    """Behind nginx, request.remote_addr is the proxy's: read the client's from X-Forwarded-For, trusting
    only TRUSTED_PROXY_HOPS proxies (a client cannot forge more hops than are configured)."""
    hops = app.config.get("TRUSTED_PROXY_HOPS") or 0
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
