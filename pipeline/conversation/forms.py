"""Forms for comments, updates, reports and email settings."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import FieldList, FormField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from pipeline.forms import Form, choices
from pipeline.models import FREQUENCIES, UPDATE_KINDS
from pipeline.services.comments import MAX_COMMENT, MAX_REASON
from pipeline.services.updates import MAX_BODY, MAX_TITLE

MARKDOWN_HINT = "You can use Markdown: **bold**, [links](https://…), lists."
COMMENT = [
    InputRequired(message="Enter your comment"),
    Length(max=MAX_COMMENT, message=f"Comment must be {MAX_COMMENT:,} characters or fewer"),
]


class CommentForm(Form):
    body = StringField("Add a comment", widget=GovTextArea(), description=MARKDOWN_HINT, validators=COMMENT)
    submit = SubmitField("Post comment", widget=GovSubmitInput())


class ReplyForm(Form):
    body = StringField("Your reply", widget=GovTextArea(), description=MARKDOWN_HINT, validators=COMMENT)
    submit = SubmitField("Post reply", widget=GovSubmitInput())


class EditCommentForm(Form):
    body = StringField("Your comment", widget=GovTextArea(), description=MARKDOWN_HINT, validators=COMMENT)
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class DeleteCommentForm(Form):
    submit = SubmitField("Delete comment", widget=GovSubmitInput())


class ReportForm(Form):
    reason = StringField(
        "Why are you reporting this comment?",
        widget=GovTextArea(),
        description="For example, it is offensive, it is spam, or it shares someone's personal details.",
        validators=[
            InputRequired(message="Enter why you are reporting this comment"),
            Length(max=MAX_REASON, message=f"Reason must be {MAX_REASON:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Report comment", widget=GovSubmitInput())


class ReportUpdateForm(Form):
    reason = StringField(
        "Why are you reporting this update?",
        widget=GovTextArea(),
        description="For example, it is offensive, it is spam, or it shares someone's personal details.",
        validators=[
            InputRequired(message="Enter why you are reporting this update"),
            Length(max=MAX_REASON, message=f"Reason must be {MAX_REASON:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Report update", widget=GovSubmitInput())


class UpdateForm(Form):
    kind = RadioField(
        "What kind of update is it?",
        widget=GovRadioInput(),
        choices=choices(UPDATE_KINDS.items()),
        validate_choice=False,
        validators=[InputRequired(message="Select what kind of update this is")],
    )
    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter a title for the update"),
            Length(max=MAX_TITLE, message=f"Title must be {MAX_TITLE} characters or fewer"),
        ],
    )
    body = StringField(
        "Update",
        widget=GovTextArea(),
        description="What you did, what you learnt and what happens next. " + MARKDOWN_HINT,
        validators=[
            InputRequired(message="Enter the update"),
            Length(max=MAX_BODY, message=f"Update must be {MAX_BODY:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Post update", widget=GovSubmitInput())


class FollowFrequencyForm(FlaskForm):
    """How often one follow emails; the label names what is followed."""

    class Meta:
        csrf = False

    follow_id = HiddenField()
    frequency = SelectField("Email", widget=GovSelect(), validate_choice=False)


class SettingsForm(Form):
    frequency = RadioField(
        "How often should we email you?",
        widget=GovRadioInput(),
        choices=choices(FREQUENCIES.items()),
        validate_choice=False,
        validators=[InputRequired(message="Select how often we should email you")],
    )
    follows = FieldList(FormField(FollowFrequencyForm))
    submit = SubmitField("Save settings", widget=GovSubmitInput())

    def follow_frequencies(self) -> dict[int, str]:
        """{follow id: frequency, or "" for the overall choice} from the form."""
        found = {}
        for entry in self.follows:
            follow_id = str(entry.form.follow_id.data or "")
            if follow_id.isdigit():
                found[int(follow_id)] = entry.form.frequency.data or ""
        return found
