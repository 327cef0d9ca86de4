"""Forms to post and edit a project and to move it through its phases."""

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import FieldList, FormField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from pipeline.forms import DateInputField, Form, choices
from pipeline.models import ACTIVE_PHASES, LINK_KINDS
from pipeline.models.project import PHASE_LABELS
from pipeline.services.projects import MAX_DAYS, MAX_MONEY_TARGET, LinkInput, NeedInput, ProjectInput, parse_tags

WHOLE_NUMBER = re.compile(r"^\d+$")


def whole_pounds(text: str | None) -> int | None:
    """'£5,000' -> 5000; '' -> None; anything else raises ValueError."""
    cleaned = (text or "").strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        return None
    if not WHOLE_NUMBER.match(cleaned):
        raise ValueError
    return int(cleaned)


class MoneyTarget:
    def __call__(self, form, field):
        try:
            value = whole_pounds(field.data)
        except ValueError:
            raise ValidationError("Enter the money target as a whole number of pounds, like 5000") from None
        if value is not None and value > MAX_MONEY_TARGET:
            raise ValidationError("Money target must be £100,000,000 or less")


class LinkForm(FlaskForm):
    """One link to an output; an entry left blank is ignored."""

    class Meta:
        csrf = False

    kind = SelectField(
        "Kind of output",
        widget=GovSelect(),
        choices=choices([("", "Select a kind"), *LINK_KINDS.items()]),
        validate_choice=False,
    )
    title = StringField("Link title", widget=GovTextInput(), validators=[Length(max=150)])
    url = StringField("Web address", widget=GovTextInput(), validators=[Length(max=500)])

    def is_blank(self) -> bool:
        return not (self.title.data or "").strip() and not (self.url.data or "").strip()

    def validate_url(self, field):
        if self.is_blank():
            return
        if not (field.data or "").strip():
            raise ValidationError("Enter the web address of the link")
        if not re.match(r"^https?://[^\s/]+\S*$", field.data.strip()):
            raise ValidationError("Enter a web address starting with https://")

    def validate_title(self, field):
        if not self.is_blank() and not (field.data or "").strip():
            raise ValidationError("Enter a title for the link")

    def validate_kind(self, field):
        if not self.is_blank() and field.data not in LINK_KINDS:
            raise ValidationError("Select what kind of output the link is")


class NeedForm(FlaskForm):
    """One ask for people; an entry left blank is ignored."""

    class Meta:
        csrf = False

    role = StringField("Role", widget=GovTextInput(), validators=[Length(max=100)])
    days = StringField("Days", widget=GovTextInput())
    start_date = DateInputField("From (optional)", invalid_message="Enter a real start date, like 27 3 2027")
    end_date = DateInputField("To (optional)", invalid_message="Enter a real end date, like 31 7 2027")

    def is_blank(self) -> bool:
        return not (self.role.data or "").strip() and not (self.days.data or "").strip()

    def validate_role(self, field):
        if not self.is_blank() and not (field.data or "").strip():
            raise ValidationError("Enter the role needed, like user researcher")

    def validate_days(self, field):
        if self.is_blank():
            return
        text = (field.data or "").strip()
        if not WHOLE_NUMBER.match(text):
            raise ValidationError("Enter the number of days as a whole number, like 10")
        if not 0 < int(text) <= MAX_DAYS:
            raise ValidationError("Days must be between 1 and 10,000")

    def validate_end_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError("The end date must be on or after the start date")


class ProjectForm(Form):
    title = StringField(
        "Project title",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter a project title"),
            Length(max=150, message="Project title must be 150 characters or fewer"),
        ],
    )
    summary = StringField(
        "One-line summary",
        widget=GovTextInput(),
        description="Shown in lists of projects. 200 characters or fewer.",
        validators=[
            InputRequired(message="Enter a one-line summary"),
            Length(max=200, message="Summary must be 200 characters or fewer"),
        ],
    )
    problem = StringField(
        "What problem are you trying to solve?",
        widget=GovTextArea(),
        description="Describe the problem from the point of view of residents and staff, not the solution.",
        validators=[
            InputRequired(message="Enter the problem the project is trying to solve"),
            Length(max=5000, message="Problem statement must be 5,000 characters or fewer"),
        ],
    )
    description = StringField(
        "Description (optional)",
        widget=GovTextArea(),
        description=(
            "What you plan to do and what you know so far. You can use Markdown: **bold**, [links](https://…), lists."
        ),
        validators=[Length(max=20000, message="Description must be 20,000 characters or fewer")],
    )
    lead_council_id = SelectField("Lead council", widget=GovSelect(), validate_choice=False)
    services = SelectMultipleField(
        "Services this project is about",
        widget=GovCheckboxesInput(),
        validate_choice=False,
        description=(
            "From the Local Government Services List, so councils that name a service differently find each other."
        ),
    )
    service_query = StringField(
        "Search for a service", widget=GovTextInput(), description="For example, bulky waste or parking permits"
    )
    find_services = SubmitField("Find services", widget=GovSubmitInput())
    tags = StringField(
        "Tags (optional)",
        widget=GovTextInput(),
        description="Separate tags with commas, for example: digital inclusion, chatbots",
        validators=[Length(max=500, message="Tags must be 500 characters or fewer in all")],
    )
    links = FieldList(FormField(LinkForm), min_entries=1, max_entries=20)
    add_link = SubmitField("Add another link", widget=GovSubmitInput())
    money_target = StringField(
        "Money needed (optional)",
        widget=GovTextInput(),
        description="In whole pounds, for example 25000",
        validators=[MoneyTarget()],
    )
    people_needs = FieldList(FormField(NeedForm), min_entries=1, max_entries=20)
    add_need = SubmitField("Add another role", widget=GovSubmitInput())
    phase = RadioField(
        "Which phase is the project in?",
        widget=GovRadioInput(),
        choices=choices((p, PHASE_LABELS[p]) for p in ACTIVE_PHASES),
        default="idea",
        validate_choice=False,
        validators=[InputRequired(message="Select the phase the project is in")],
    )
    post_anyway = SubmitField("Post mine anyway", widget=GovSubmitInput())
    submit = SubmitField("Post project", widget=GovSubmitInput())

    def to_input(self) -> ProjectInput:
        """What was typed, as the service expects it (blank link and need entries dropped)."""
        return ProjectInput(
            title=self.title.data or "",
            summary=self.summary.data or "",
            problem=self.problem.data or "",
            description=self.description.data or "",
            lead_council_id=int(self.lead_council_id.data) if str(self.lead_council_id.data or "").isdigit() else None,
            service_ids=self.service_ids(),
            tags=parse_tags(self.tags.data or ""),
            links=[
                LinkInput(
                    kind=e.form.kind.data or "", title=e.form.title.data or "", url=(e.form.url.data or "").strip()
                )
                for e in self.links
                if not e.form.is_blank()
            ],
            money_target=whole_pounds(self.money_target.data),
            people_needs=[
                NeedInput(
                    role=e.form.role.data or "",
                    days=int(e.form.days.data),
                    start_date=e.form.start_date.data,
                    end_date=e.form.end_date.data,
                )
                for e in self.people_needs
                if not e.form.is_blank()
            ],
            phase=(self.phase.data or "") if self.phase is not None else "",
        )

    def service_ids(self) -> list[int]:
        return [int(v) for v in (self.services.data or []) if str(v).isdigit()]


class PhaseForm(Form):
    to_phase = RadioField(
        "Move the project to", widget=GovRadioInput(), validate_choice=False,
        validators=[InputRequired(message="Select the phase to move the project to")],
    )  # fmt: skip
    note = StringField(
        "Note",
        widget=GovTextArea(),
        description="Why the project is moving on, and what you learnt in this phase.",
        validators=[
            InputRequired(message="Enter a note saying why the project is changing phase"),
            Length(max=5000, message="Note must be 5,000 characters or fewer"),
        ],
    )
    evidence_url = StringField(
        "Evidence link (optional)",
        widget=GovTextInput(),
        description="For example, a service assessment report or show-and-tell recording.",
        validators=[Optional(), Length(max=500, message="Evidence link must be 500 characters or fewer")],
    )
    outcome = StringField(
        "Outcome",
        widget=GovTextArea(),
        description="Needed to stop or retire a project: what happened in the end.",
        validators=[Length(max=5000, message="Outcome must be 5,000 characters or fewer")],
    )
    lessons = StringField(
        "Lessons learnt",
        widget=GovTextArea(),
        description="Needed to stop or retire a project: what other councils should know.",
        validators=[Length(max=5000, message="Lessons learnt must be 5,000 characters or fewer")],
    )
    submit = SubmitField("Change phase", widget=GovSubmitInput())
