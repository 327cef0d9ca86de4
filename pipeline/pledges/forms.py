"""Forms to pledge, to change a pledge, and to accept, decline, deliver or withdraw one."""

import re
import secrets

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import Length, ValidationError

from pipeline.forms import DateInputField, Form, choices
from pipeline.models import PLEDGE_KINDS
from pipeline.projects.forms import whole_pounds
from pipeline.services.pledges import PledgeChange, PledgeInput

WHOLE_NUMBER = re.compile(r"^\d+$")
KIND_HINTS = {
    "money": "Whole pounds towards the project's money target",
    "people": "Days of someone's time in a role, like user researcher or developer",
    "skills": "Hours of a skill, like accessibility testing or data protection advice",
}


def whole_number(text: str | None) -> int | None:
    """'1,200' -> 1200; '' -> None; anything else raises ValueError."""
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned:
        return None
    if not WHOLE_NUMBER.match(cleaned):
        raise ValueError
    return int(cleaned)


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


class KindForm(Form):
    """The first question: what the council is pledging. Sent by GET, so it needs no CSRF token."""

    class Meta:
        csrf = False

    kind = RadioField(
        "What are you pledging?",
        widget=GovRadioInput(),
        choices=choices(PLEDGE_KINDS.items()),
        validate_choice=False,
    )
    choose = SubmitField("Continue", widget=GovSubmitInput())

    def validate_kind(self, field):
        if field.data not in PLEDGE_KINDS:
            raise ValidationError("Select what you are pledging: money, people or skills")


class AmountFields:
    """Parsing the numbers a pledge is made of; the service checks their range."""

    def _number(self, field, message: str, *, pounds: bool = False):
        try:
            return whole_pounds(field.data) if pounds else whole_number(field.data)
        except ValueError:
            raise ValidationError(message) from None


class PledgeForm(AmountFields, Form):
    kind = HiddenField()
    council_id = HiddenField()
    # Made when the form is shown: the same form sent twice makes one pledge.
    idempotency_key = HiddenField()
    amount = StringField(
        "How much are you pledging?", widget=GovTextInput(), description="In whole pounds, for example 5000"
    )
    need = RadioField("Which role are you pledging?", widget=GovRadioInput(), validate_choice=False)
    role = StringField(
        "Role",
        widget=GovTextInput(),
        description="For example, user researcher or developer",
        validators=[Length(max=100, message="Role must be 100 characters or fewer")],
    )
    days = StringField("How many days?", widget=GovTextInput())
    start_date = DateInputField("From (optional)", invalid_message="Enter a real start date, like 1 3 2027")
    end_date = DateInputField("To (optional)", invalid_message="Enter a real end date, like 31 3 2027")
    skill = StringField(
        "What skill are you offering?",
        widget=GovTextInput(),
        description="For example, accessibility testing or data protection advice",
        validators=[Length(max=100, message="Skill must be 100 characters or fewer")],
    )
    hours = StringField("How many hours?", widget=GovTextInput())
    note = StringField(
        "Note (optional)",
        widget=GovTextArea(),
        description="Anything the team should know. Everyone can read it on the project's pledges page.",
        validators=[Length(max=2000, message="Note must be 2,000 characters or fewer")],
    )
    submit = SubmitField("Send pledge", widget=GovSubmitInput())

    def validate_amount(self, field):
        if self.kind.data == "money":
            self._number(field, "Enter the amount as a whole number of pounds, like 5000", pounds=True)

    def validate_days(self, field):
        if self.kind.data == "people":
            self._number(field, "Enter the number of days as a whole number, like 10")

    def validate_hours(self, field):
        if self.kind.data == "skills":
            self._number(field, "Enter the number of hours as a whole number, like 12")

    def validate_need(self, field):
        if self.kind.data == "people" and self.need.choices and not field.data:
            raise ValidationError("Select the role you are pledging, or another role")

    def to_input(self) -> PledgeInput:
        """What was typed, as the service expects it."""
        kind = self.kind.data or ""
        need = self.need.data or ""
        return PledgeInput(
            kind=kind,
            council_id=int(self.council_id.data) if (self.council_id.data or "").isdigit() else None,
            amount=whole_pounds(self.amount.data) if kind == "money" else None,
            need_id=int(need) if need.isdigit() else None,
            role=(self.role.data or "") if not need.isdigit() else "",
            days=whole_number(self.days.data) if kind == "people" else None,
            skill=self.skill.data or "",
            hours=whole_number(self.hours.data) if kind == "skills" else None,
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            note=self.note.data or "",
            idempotency_key=self.idempotency_key.data or "",
        )


class ChangeForm(AmountFields, Form):
    """New amount, days, dates or hours for a pledge; which fields show depends on its kind."""

    amount = StringField("Amount", widget=GovTextInput(), description="In whole pounds, for example 5000")
    days = StringField("Days", widget=GovTextInput())
    start_date = DateInputField("From (optional)", invalid_message="Enter a real start date, like 1 3 2027")
    end_date = DateInputField("To (optional)", invalid_message="Enter a real end date, like 31 3 2027")
    hours = StringField("Hours", widget=GovTextInput())
    reason = StringField(
        "Why are you changing it? (optional)",
        widget=GovTextArea(),
        description="The project team sees this, and so does everyone on the project's pledges page.",
        validators=[Length(max=2000, message="Reason must be 2,000 characters or fewer")],
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.pledge_kind = kind

    def validate_amount(self, field):
        if self.pledge_kind == "money":
            self._number(field, "Enter the amount as a whole number of pounds, like 5000", pounds=True)

    def validate_days(self, field):
        if self.pledge_kind == "people":
            self._number(field, "Enter the number of days as a whole number, like 10")

    def validate_hours(self, field):
        if self.pledge_kind == "skills":
            self._number(field, "Enter the number of hours as a whole number, like 12")

    def to_change(self) -> PledgeChange:
        kind = self.pledge_kind
        return PledgeChange(
            amount=whole_pounds(self.amount.data) if kind == "money" else None,
            days=whole_number(self.days.data) if kind == "people" else None,
            hours=whole_number(self.hours.data) if kind == "skills" else None,
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            reason=self.reason.data or "",
        )


class ActionForm(Form):
    """Accept, decline, mark delivered or withdraw: a reason or note where the action has one."""

    # Its label, and whether it is needed, depend on the action; the service checks it.
    reason = StringField("Reason", widget=GovTextArea())
    submit = SubmitField("Confirm", widget=GovSubmitInput())
