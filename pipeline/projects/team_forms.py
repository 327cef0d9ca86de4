"""Forms to ask to join a project and to add or ask for partner councils."""

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from pipeline.forms import Form, choices
from pipeline.services.teams import JOIN_MESSAGE_MAX, PARTNER_ROLE_LABELS


def _role_field(label: str) -> RadioField:
    return RadioField(
        label,
        widget=GovRadioInput(),
        choices=choices(PARTNER_ROLE_LABELS.items()),
        default="partner",
        description="A partner works on the project. An observer follows it closely and may adopt what it makes.",
        validate_choice=False,
        validators=[InputRequired(message="Select whether the council is a partner or an observer")],
    )


class JoinForm(Form):
    """An officer's request to join a project's team. Prefixed, so its ids are unique on the project page."""

    message = StringField(
        "Your message to the team",
        widget=GovTextArea(),
        description=(
            f"Say what you or your council could bring, in {JOIN_MESSAGE_MAX} characters or fewer. "
            "The project's owners read it; it is not shown on the project page."
        ),
        validators=[
            InputRequired(message="Enter a short message to the team saying why you want to join"),
            Length(max=JOIN_MESSAGE_MAX, message=f"Message must be {JOIN_MESSAGE_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Ask to join", widget=GovSubmitInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="join", **kwargs)


class AddCouncilForm(Form):
    """The team adds a council to the project."""

    council_id = SelectField("Council", widget=GovSelect(), validate_choice=False)
    role = _role_field("Its role")
    submit = SubmitField("Add council", widget=GovSubmitInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="add", **kwargs)

    def council(self) -> int | None:
        value = str(self.council_id.data or "")
        return int(value) if value.isdigit() and len(value) < 10 else None


class AskCouncilForm(Form):
    """An officer asks for their own council to take part."""

    role = _role_field("How would your council take part?")
    submit = SubmitField("Ask to take part", widget=GovSubmitInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="ask", **kwargs)
