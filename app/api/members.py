"""Members, addressed by Telegram id (what sibling services know)."""
from __future__ import annotations

from app.api import bp
from app.api.auth import requires, tenant, token
from app.api.lookups import member_or_404
from app.api.pagination import page
from app.api.schemas import MemberCreate, MemberOut, MemberPatch, MemberQuery, page_of
from app.models import Member
from app.services import member_admin, member_queries, members

TAG = "Members"


@bp.get("/members")
@requires("read")
@bp.input(MemberQuery, location="query")
@bp.output(page_of(MemberOut, "MemberPage"))
@bp.doc(tags=[TAG], summary="List or search members (newest first)")
def list_members(query_data):
    query = member_queries.search_query(tenant(), query_data.get("q") or "")
    items, after = page(query, Member.id, limit=query_data["limit"], after=query_data.get("after"))
    return {"items": items, "next": after}


@bp.post("/members")
@requires("members:write")
@bp.input(MemberCreate)
@bp.output(MemberOut, status_code=200)
@bp.doc(tags=[TAG], summary="Get or create a member by Telegram id", responses={201: "Created"})
def create_member(json_data):
    fields = {k: json_data[k] for k in ("username", "first_name", "last_name") if json_data.get(k)}
    if json_data.get("language"):
        fields["language_code"] = json_data["language"]
    member, created = members.get_or_create_member(tenant(), json_data["telegram_id"], **fields)
    return member, 201 if created else 200


@bp.get("/members/<int:telegram_id>")
@requires("read")
@bp.output(MemberOut)
@bp.doc(tags=[TAG], summary="One member")
def get_member(telegram_id: int):
    return member_or_404(telegram_id)


@bp.patch("/members/<int:telegram_id>")
@requires("members:write")
@bp.input(MemberPatch)
@bp.output(MemberOut)
@bp.doc(tags=[TAG], summary="Change language, VIP level or ban")
def patch_member(telegram_id: int, json_data):
    member = member_or_404(telegram_id)
    members.update_profile(member, language_code=json_data.get("language"), vip_level=json_data.get("vip_level"))
    if "is_banned" in json_data and json_data["is_banned"] != member.is_banned:
        member_admin.set_banned(member, json_data["is_banned"], token())
    return member
