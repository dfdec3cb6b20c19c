import pytest
from flask_login import login_user
from werkzeug.exceptions import Forbidden, NotFound

from app.models import Plan, Role
from app.tenant_context import current_tenant, get_owned_or_404, roles_required, switch_tenant


def test_current_tenant_and_switching(app, make):
    account = make.account()
    first, second = make.tenant(owner=account), make.tenant(owner=account)
    stranger = make.tenant()
    with app.test_request_context():
        login_user(account)
        assert current_tenant().id == first.id
        assert switch_tenant(second.id) and current_tenant().id == second.id
        assert not switch_tenant(stranger.id) and current_tenant().id == second.id


def test_other_tenants_rows_are_404(app, make):
    owner = make.account()
    mine = make.plan(make.tenant(owner=owner))
    theirs = make.plan(make.tenant())
    with app.test_request_context():
        login_user(owner)
        assert get_owned_or_404(Plan, mine.id).id == mine.id
        with pytest.raises(NotFound):
            get_owned_or_404(Plan, theirs.id)
        with pytest.raises(NotFound):
            get_owned_or_404(Plan, 999_999)


def test_roles_required_forbids_other_roles(app, make):
    tenant = make.tenant()
    viewer = make.staff(tenant, Role.VIEWER)
    view = roles_required(Role.OWNER, Role.APPROVER)(lambda: "ok")
    with app.test_request_context():
        login_user(viewer)
        with pytest.raises(Forbidden):
            view()
