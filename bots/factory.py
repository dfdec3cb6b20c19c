"""Building the TeleBot for one Bot row: our middleware, the handler modules, no threads of its own."""
from __future__ import annotations

import importlib
import threading

import telebot
from flask import Flask
from telebot.storage import StateMemoryStorage

from app.models import Bot
from app.services import bots as bot_service
from bots.middleware import UpdateTransactionMiddleware

DEFAULT_HANDLERS = "bots.handlers:register_all"


def build_telebot(app: Flask, bot: Bot) -> telebot.TeleBot:
    """A TeleBot for this bot (inside an app context): handlers run synchronously in the caller's thread."""
    tb = telebot.TeleBot(
        bot_service.bot_token(bot), threaded=False, use_class_middlewares=True,
        # One storage per bot: the library's default argument is a single object shared by every bot.
        state_storage=StateMemoryStorage(),
    )
    tb.botfleet_bot_id = bot.id
    tb.botfleet_tenant_id = bot.tenant_id
    tb.setup_middleware(UpdateTransactionMiddleware(app, tb))
    handler_registrar(app)(tb)
    return tb


def handler_registrar(app: Flask):
    """The function that registers every handler module on a TeleBot (BOT_HANDLERS, "module:function")."""
    module_name, _, attribute = app.config.get("BOT_HANDLERS", DEFAULT_HANDLERS).partition(":")
    return getattr(importlib.import_module(module_name), attribute)


class TeleBotCache:
    """TeleBots built on demand and kept per (bot id, config_version), for webhook requests in any worker."""

    def __init__(self, app: Flask):
        self.app = app
        self._bots: dict[int, tuple[int, telebot.TeleBot]] = {}
        self._lock = threading.Lock()

    def get(self, bot: Bot) -> telebot.TeleBot:
        with self._lock:
            cached = self._bots.get(bot.id)
            if cached is None or cached[0] != bot.config_version:
                cached = (bot.config_version, build_telebot(self.app, bot))
                self._bots[bot.id] = cached
            return cached[1]
