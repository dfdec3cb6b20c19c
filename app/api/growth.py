"""XP, badges, leaderboard and per-bot sessions: one member's progress shared by all the tenant's services."""
from __future__ import annotations

from flask import request

from app.api import bp
from app.api.auth import requires, tenant
from app.api.lookups import bot_or_404, member_or_404, optional_bot
from app.api.schemas import (
    BadgeAward,
    BadgeAwarded,
    BadgeList,
    IfMatchHeader,
    LeaderboardOut,
    LeaderboardQuery,
    RankOut,
    RankQuery,
    SessionOut,
    SessionPut,
    XpIn,
    XpOut,
)
from app.extensions import db
from app.models import Member
from app.services import badges, leaderboard, sessions, xp

TAG = "Growth"


@bp.post("/members/<int:telegram_id>/xp")
@requires("members:write")
@bp.input(XpIn)
@bp.output(XpOut)
@bp.doc(tags=[TAG], summary="Give XP (source api); says whether the member leveled up")
def give_xp(telegram_id: int, json_data):
    member = member_or_404(telegram_id)
    given = xp.award_from_service(member, json_data["amount"], reason=json_data["reason"],
                                  bot=optional_bot(json_data.get("bot_id")))
    return given.__dict__


@bp.get("/members/<int:telegram_id>/badges")
@requires("read")
@bp.output(BadgeList)
@bp.doc(tags=[TAG], summary="The member's badges, oldest first")
def list_badges(telegram_id: int):
    return {"items": badges.badges_of(member_or_404(telegram_id))}


@bp.post("/members/<int:telegram_id>/badges")
@requires("members:write")
@bp.input(BadgeAward)
@bp.output(BadgeAwarded)
@bp.doc(tags=[TAG], summary="Award a badge (idempotent: awarding it again changes nothing)")
def award_badge(telegram_id: int, json_data):
    member = member_or_404(telegram_id)
    awarded = badges.award(member, json_data["code"], bot=optional_bot(json_data.get("bot_id")))
    held = next(b for b in badges.badges_of(member) if b.code == json_data["code"])
    return {"badge": held, "newly_awarded": awarded is not None}


@bp.get("/leaderboard")
@requires("read")
@bp.input(LeaderboardQuery, location="query")
@bp.output(LeaderboardOut)
@bp.doc(tags=[TAG], summary="Top members by XP, all time or today")
def get_leaderboard(query_data):
    standings = leaderboard.top(tenant(), period=query_data["period"], limit=query_data["limit"])
    ids = {s.member_id: s for s in standings}
    telegram = dict(db.session.execute(db.select(Member.id, Member.telegram_id).where(Member.id.in_(ids))).all())
    return {"period": query_data["period"], "items": [
        {**s.__dict__, "telegram_id": telegram[s.member_id]} for s in standings]}


@bp.get("/members/<int:telegram_id>/rank")
@requires("read")
@bp.input(RankQuery, location="query")
@bp.output(RankOut)
@bp.doc(tags=[TAG], summary="The member's rank on the leaderboard")
def get_rank(telegram_id: int, query_data):
    member = member_or_404(telegram_id)
    period = query_data["period"]
    return {"telegram_id": member.telegram_id, "period": period, "rank": leaderboard.rank_of(member, period=period),
            "xp": getattr(member, leaderboard.xp_column(period).key)}


@bp.get("/members/<int:telegram_id>/sessions/<int:bot_id>")
@requires("read")
@bp.output(SessionOut)
@bp.doc(tags=[TAG], summary="The member's session in one bot (ETag: its version)")
def get_session(telegram_id: int, bot_id: int):
    member = member_or_404(telegram_id)
    bot = bot_or_404(bot_id)
    session = sessions.find_session(member, bot)
    if session is None:  # nothing written yet: an empty session at version 0 (reading creates nothing)
        return {"telegram_id": member.telegram_id, "bot_id": bot.id, "session_data": {}, "stats_data": {},
                "version": 0, "updated_at": None}, 200, {"ETag": '"0"'}
    return _session_out(member, session), 200, {"ETag": f'"{session.version}"'}


@bp.put("/members/<int:telegram_id>/sessions/<int:bot_id>")
@requires("members:write")
@bp.input(IfMatchHeader, location="headers", arg_name="headers")
@bp.input(SessionPut)
@bp.output(SessionOut)
@bp.doc(tags=[TAG], summary="Replace session_data and/or stats_data; If-Match: the version read (412 if stale)")
def put_session(telegram_id: int, bot_id: int, json_data, headers):
    member = member_or_404(telegram_id)
    session = sessions.session_of(member, bot_or_404(bot_id))
    updated = sessions.put_session(session, session_data=json_data.get("session_data"),
                                   stats_data=json_data.get("stats_data"), expected_version=_if_match())
    return _session_out(member, updated), 200, {"ETag": f'"{updated.version}"'}


def _if_match() -> int | None:
    """The version in If-Match (its format is checked by IfMatchHeader); None without one, or for *."""
    raw = (request.headers.get("If-Match") or "").strip().removeprefix("W/").strip('"')
    return int(raw) if raw.isdigit() else None


def _session_out(member: Member, session) -> dict:
    return {"telegram_id": member.telegram_id, "bot_id": session.bot_id, "session_data": session.session_data or {},
            "stats_data": session.stats_data or {}, "version": session.version, "updated_at": session.updated_at}
