"""A small client for the sandbox control API, and reading photos through the Bot API."""
from __future__ import annotations

import base64
from urllib.parse import quote

import requests
from flask import current_app
from telebot import apihelper

from app import telegram_api
from app.models import Bot
from app.services import bots as bot_service

TIMEOUT = 5
#: Telegram waits 10 seconds for answerPreCheckoutQuery; the request waits a little longer.
PAY_WAIT_SECONDS = 10


class SandboxUnavailable(Exception):
    """The sandbox did not answer (not running, or TELEGRAM_API_URL is real Telegram)."""


def base_url() -> str:
    return current_app.config["TELEGRAM_API_URL"].rstrip("/")


def _call(method: str, path: str, timeout: float = TIMEOUT, **kwargs) -> dict:
    try:
        response = requests.request(method, base_url() + path, timeout=timeout, **kwargs)
    except requests.RequestException:
        raise SandboxUnavailable(f"The sandbox at {base_url()} does not answer; start it with `make run` "
                                 "or `flask sandbox`.") from None
    if response.status_code >= 400:
        raise SandboxUnavailable(f"The sandbox refused the request: {_description(response)}")
    return response.json()


def _description(response) -> str:
    try:
        return str(response.json().get("description"))[:200]
    except ValueError:
        return f"HTTP {response.status_code} (is TELEGRAM_API_URL the sandbox?)"


def ensure_known(bot: Bot) -> None:
    """Make sure the sandbox knows this bot (it learns bots at their first call, or here)."""
    known = {b["id"] for b in _call("GET", "/sandbox/bots")["bots"]}
    if bot.telegram_bot_id not in known:
        _call("POST", "/sandbox/bots", json={"token": bot_service.bot_token(bot), "username": bot.username,
                                              "first_name": bot.first_name})


def messages(bot: Bot, user_id: int) -> list[dict]:
    ensure_known(bot)
    return _call("GET", f"/sandbox/chats/{user_id}/messages", params={"bot_id": bot.telegram_bot_id})["messages"]


def callback_answers(bot: Bot, query_ids: list[str]) -> list[dict]:
    """How the bot answered these button presses (answerCallbackQuery), for a toast or an alert."""
    answers = _call("GET", "/sandbox/callback-answers", params={"bot_id": bot.telegram_bot_id})["answers"]
    return [{"callback_query_id": a["callback_query_id"], "text": a.get("text"), "show_alert": bool(a.get("show_alert"))}
            for a in answers if a["callback_query_id"] in query_ids]


def send(bot: Bot, user: dict, **content) -> dict:
    """Post what the test user does: text=..., photo=bytes (+ caption), or callback={message_id, data}."""
    ensure_known(bot)
    if "photo" in content:
        content["photo"] = base64.b64encode(content["photo"]).decode()
    return _call("POST", "/sandbox/updates", json={"bot_id": bot.telegram_bot_id, "from": user, **content})


def pay(bot: Bot, user: dict, slug: str) -> dict:
    """The test user presses Pay on a Stars invoice: the sandbox asks the bot (pre_checkout_query) and
    answers what came of it ({"status": paid|declined|timeout, "error_message"?})."""
    ensure_known(bot)
    body = {"user_id": user["id"], "first_name": user["first_name"], "timeout": PAY_WAIT_SECONDS}
    return _call("POST", f"/sandbox/invoices/{quote(slug, safe='')}/pay", timeout=TIMEOUT + PAY_WAIT_SECONDS, json=body)


def photo_bytes(bot: Bot, file_id: str) -> bytes:
    """A photo of the conversation, fetched as a bot would: getFile, then the file URL."""
    telegram_api.configure(current_app)
    token = bot_service.bot_token(bot)
    try:
        path = apihelper.get_file(token, file_id)["file_path"]
        return apihelper.download_file(token, path)
    except (apihelper.ApiException, requests.RequestException, KeyError):
        raise SandboxUnavailable("That photo is not in the sandbox any more.") from None
