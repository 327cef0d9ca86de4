"""Organisers' forms."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from pipeline.forms import Form, choices
from pipeline.models import NATIONS

REASON = [Length(max=2000, message="Reason must be 2,000 characters or fewer")]


class ReasonForm(Form):
    reason = StringField("Reason (optional)", widget=GovTextInput(), validators=REASON)
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class RequiredReasonForm(Form):
    reason = StringField(
        "Reason",
        widget=GovTextArea(),
        description="The person is told this reason.",
        validators=[InputRequired(message="Enter the reason"), *REASON],
    )
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class DomainForm(Form):
    domain = StringField(
        "Email domain",
        widget=GovTextInput(),
        description="For example, leeds.gov.uk",
        validators=[InputRequired(message="Enter a domain like leeds.gov.uk, without @ or https://"), Length(max=253)],
    )
    shared = BooleanField("This domain is shared with another council", widget=GovCheckboxInput())
    reason = StringField("Reason (optional)", widget=GovTextInput(), validators=REASON)
    submit = SubmitField("Add domain", widget=GovSubmitInput())


class AddRequestedDomainForm(Form):
    council = SelectField("Council", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Add domain", widget=GovSubmitInput())


class OrganisationForm(Form):
    name = StringField(
        "Name", widget=GovTextInput(), validators=[InputRequired(message="Enter the organisation's name")]
    )
    nation = RadioField(
        "Nation",
        widget=GovRadioInput(),
        choices=choices((n, n) for n in NATIONS),
        validate_choice=False,
        validators=[InputRequired(message="Select the nation the organisation works in")],
    )
    region = StringField("Region (optional)", widget=GovTextInput(), validators=[Length(max=60)])
    domain = StringField("Email domain (optional)", widget=GovTextInput(), validators=[Length(max=253)])
    reason = StringField("Reason (optional)", widget=GovTextInput(), validators=REASON)
    submit = SubmitField("Add organisation", widget=GovSubmitInput())


class RoleForm(Form):
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        choices=choices([("officer", "Officer"), ("organiser", "Organiser"), ("admin", "Admin")]),
        validate_choice=False,
        validators=[InputRequired(message="Select a role")],
    )
    reason = StringField("Reason (optional)", widget=GovTextInput(), validators=REASON)
    submit = SubmitField("Change role", widget=GovSubmitInput())


class ThemeForm(Form):
    title = StringField(
        "Title", widget=GovTextInput(), validators=[InputRequired(message="Enter a title for the theme")]
    )
    description = StringField(
        "Description", widget=GovTextArea(), description="You can use Markdown.", validators=[Length(max=5000)]
    )
    submit = SubmitField("Save theme", widget=GovSubmitInput())


class ThemeProjectForm(Form):
    project = StringField(
        "Add a project",
        widget=GovTextInput(),
        description="The project's web address, or the last part of it, like bulky-waste-online",
        validators=[InputRequired(message="Enter the web address or short name of a project on Pipeline")],
    )
    submit = SubmitField("Add project", widget=GovSubmitInput())

    def slug(self) -> str:
        return (self.project.data or "").strip().rstrip("/").rsplit("/", 1)[-1]


class HideForm(Form):
    reason = StringField(
        "Why are you hiding it?",
        widget=GovTextArea(),
        description="Its author is told this reason by email.",
        # The service asks for it, naming what is hidden.
        validators=REASON,
    )
    next = HiddenField()
    submit = SubmitField("Hide", widget=GovSubmitInput())


class RestoreForm(Form):
    reason = StringField("Reason (optional)", widget=GovTextArea(), validators=REASON)
    next = HiddenField()
    submit = SubmitField("Restore", widget=GovSubmitInput())


class DismissReportsForm(Form):
    reason = StringField("Reason (optional)", widget=GovTextInput(), validators=REASON)
    # The newest report the organiser saw: a report sent since then stays open.
    seen = HiddenField()
    next = HiddenField()

    def seen_up_to(self) -> int | None:
        value = str(self.seen.data or "")
        return int(value) if value.isdigit() and len(value) < 12 else None


class PairForm(Form):
    project = StringField(
        "Project",
        widget=GovTextInput(),
        description="The project's web address, or the last part of it, like bulky-waste-online",
        validators=[InputRequired(message="Enter the web address or short name of a project on Pipeline")],
    )
    reason = StringField("Reason (optional)", widget=GovTextInput(), validators=REASON)
    next = HiddenField()

    def slug(self) -> str:
        return (self.project.data or "").strip().rstrip("/").rsplit("/", 1)[-1]


class MergeForm(Form):
    into = StringField(
        "Merge it into",
        widget=GovTextInput(),
        description="The web address of the project that carries on, or the last part of it, like bulky-waste-online",
        validators=[InputRequired(message="Enter the web address or short name of the project to merge into")],
    )
    reason = StringField(
        "Reason (optional)",
        widget=GovTextArea(),
        description="Shown on the timeline of both projects and kept in the audit log.",
        validators=REASON,
    )
    check = SubmitField("Check what moves", widget=GovSubmitInput())
    submit = SubmitField("Merge projects", widget=GovSubmitInput())
