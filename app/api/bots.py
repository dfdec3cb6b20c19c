"""Bot management: connect (token checked with getMe, never returned), enable, features and settings."""
from __future__ import annotations

import sqlalchemy as sa

from app.api import bp
from app.api.auth import requires, tenant, token
from app.api.lookups import bot_or_404
from app.api.pagination import page
from app.api.schemas import PageQuery, page_of
from app.api.schemas_admin import (
    BotCreate,
    BotOut,
    BotPatch,
    ConfigItem,
    ConfigList,
    ConfigPut,
    FeatureList,
    FeatureOut,
    FeaturePut,
)
from app.models import Bot
from app.services import bot_config, bot_registration

TAG = "Bots"


@bp.get("/bots")
@requires("read")
@bp.input(PageQuery, location="query")
@bp.output(page_of(BotOut, "BotPage"))
@bp.doc(tags=[TAG], summary="The tenant's bots")
def list_bots(query_data):
    items, after = page(sa.select(Bot).where(Bot.tenant_id == tenant().id), Bot.id,
                        limit=query_data["limit"], after=query_data.get("after"))
    return {"items": items, "next": after}


@bp.post("/bots")
@requires("bots:admin")
@bp.input(BotCreate)
@bp.output(BotOut, status_code=201)
@bp.doc(tags=[TAG], summary="Connect a bot by its token (checked with getMe first)")
def create_bot(json_data):
    return bot_registration.connect_bot(tenant(), json_data["token"], token())


@bp.get("/bots/<int:bot_id>")
@requires("read")
@bp.output(BotOut)
@bp.doc(tags=[TAG], summary="One bot")
def get_bot(bot_id: int):
    return bot_or_404(bot_id)


@bp.patch("/bots/<int:bot_id>")
@requires("bots:admin")
@bp.input(BotPatch)
@bp.output(BotOut)
@bp.doc(tags=[TAG], summary="Change a bot (is_active)")
def patch_bot(bot_id: int, json_data):
    bot = bot_or_404(bot_id)
    if "is_active" in json_data and json_data["is_active"] != bot.is_active:
        bot_registration.set_active(bot, json_data["is_active"], token())
    return bot


@bp.delete("/bots/<int:bot_id>")
@requires("bots:admin")
@bp.output({}, status_code=204)
@bp.doc(tags=[TAG], summary="Disconnect a bot")
def delete_bot(bot_id: int):
    bot_registration.remove_bot(bot_or_404(bot_id), token())
    return ""


@bp.post("/bots/<int:bot_id>/activate")
@requires("bots:admin")
@bp.output(BotOut)
@bp.doc(tags=[TAG], summary="Start the bot")
def activate_bot(bot_id: int):
    bot = bot_or_404(bot_id)
    return bot if bot.is_active else bot_registration.set_active(bot, True, token())


@bp.post("/bots/<int:bot_id>/deactivate")
@requires("bots:admin")
@bp.output(BotOut)
@bp.doc(tags=[TAG], summary="Stop the bot")
def deactivate_bot(bot_id: int):
    bot = bot_or_404(bot_id)
    return bot_registration.set_active(bot, False, token()) if bot.is_active else bot


@bp.get("/bots/<int:bot_id>/features")
@requires("read")
@bp.output(FeatureList)
@bp.doc(tags=[TAG], summary="Every feature of the bot, on or off")
def list_features(bot_id: int):
    return {"items": bot_config.features(bot_or_404(bot_id))}


@bp.get("/bots/<int:bot_id>/features/<key>")
@requires("read")
@bp.output(FeatureOut)
@bp.doc(tags=[TAG], summary="One feature")
def get_feature(bot_id: int, key: str):
    return bot_config.feature(bot_or_404(bot_id), key)


@bp.put("/bots/<int:bot_id>/features/<key>")
@requires("bots:admin")
@bp.input(FeaturePut)
@bp.output(FeatureOut)
@bp.doc(tags=[TAG], summary="Turn a feature on or off, with its config")
def put_feature(bot_id: int, key: str, json_data):
    return bot_config.set_feature(bot_or_404(bot_id), key, json_data["enabled"], json_data["config"], by=token())


@bp.delete("/bots/<int:bot_id>/features/<key>")
@requires("bots:admin")
@bp.output({}, status_code=204)
@bp.doc(tags=[TAG], summary="Reset a feature to its default (on, no config)")
def delete_feature(bot_id: int, key: str):
    bot_config.reset_feature(bot_or_404(bot_id), key, by=token())
    return ""


@bp.get("/bots/<int:bot_id>/config")
@requires("read")
@bp.output(ConfigList)
@bp.doc(tags=[TAG], summary="Every bot setting with its value (or default)")
def list_config(bot_id: int):
    return {"items": bot_config.config_items(bot_or_404(bot_id))}


@bp.get("/bots/<int:bot_id>/config/<key>")
@requires("read")
@bp.output(ConfigItem)
@bp.doc(tags=[TAG], summary="One setting")
def get_config(bot_id: int, key: str):
    return bot_config.config_item(bot_or_404(bot_id), key)


@bp.put("/bots/<int:bot_id>/config/<key>")
@requires("bots:admin")
@bp.input(ConfigPut)
@bp.output(ConfigItem)
@bp.doc(tags=[TAG], summary="Set a setting: body {\"value\": ...}, validated by the settings registry")
def put_config(bot_id: int, key: str, json_data):
    return bot_config.set_config(bot_or_404(bot_id), key, json_data["value"], by=token())


@bp.delete("/bots/<int:bot_id>/config/<key>")
@requires("bots:admin")
@bp.output({}, status_code=204)
@bp.doc(tags=[TAG], summary="Reset a setting to its default")
def delete_config(bot_id: int, key: str):
    bot_config.set_config(bot_or_404(bot_id), key, None, by=token())
    return ""
