from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField

from app.models import Role


class InviteForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[(Role.APPROVER.value, _l("approver: decides receipts")),
                                            (Role.VIEWER.value, _l("viewer: reads everything")),
                                            (Role.SUPPORT.value, _l("support: answers tickets, reads members"))])
    submit = SubmitField(_l("Create invitation link"))
