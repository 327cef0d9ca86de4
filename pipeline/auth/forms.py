"""Forms for accounts: register, sign in, reset a password, change your details."""

from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from pipeline.forms import Form
from pipeline.services.passwords import MAX_LENGTH

NAME = [InputRequired(message="Enter your full name"), Length(max=100, message="Name must be 100 characters or fewer")]
JOB_TITLE = [Length(max=100, message="Job title must be 100 characters or fewer")]
EMAIL = [
    InputRequired(message="Enter your work email address"),
    Length(max=320, message="Email address must be 320 characters or fewer"),
]


class RegisterForm(Form):
    name = StringField("Full name", widget=GovTextInput(), validators=NAME)
    job_title = StringField("Job title (optional)", widget=GovTextInput(), validators=JOB_TITLE)
    email = StringField(
        "Work email address",
        widget=GovTextInput(),
        validators=EMAIL,
        description="Your council email address. We use it to check which council you work for.",
    )
    council = RadioField("Which council do you work for?", widget=GovRadioInput(), validate_choice=False)
    password = PasswordField(
        "Create a password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a password")],
        description=f"Use 12 to {MAX_LENGTH} characters. A few unrelated words is a good password.",
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class SignInForm(Form):
    email = StringField("Email address", widget=GovTextInput(), validators=EMAIL)
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[InputRequired(message="Enter your password")]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SignOutForm(Form):
    submit = SubmitField("Sign out", widget=GovSubmitInput())


class ResetRequestForm(Form):
    email = StringField("Email address", widget=GovTextInput(), validators=EMAIL)
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


class NewPasswordForm(Form):
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password")],
        description=f"Use 12 to {MAX_LENGTH} characters. A few unrelated words is a good password.",
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class AccountForm(Form):
    name = StringField("Full name", widget=GovTextInput(), validators=NAME)
    job_title = StringField("Job title (optional)", widget=GovTextInput(), validators=JOB_TITLE)
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class TwoFactorForm(Form):
    code = StringField(
        "Code",
        widget=GovTextInput(),
        description="The 6-digit code from your authenticator app, or one of your recovery codes",
        validators=[InputRequired(message="Enter the code from your authenticator app"), Length(max=20)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class StartTwoFactorForm(Form):
    submit = SubmitField("Set up two-factor sign-in", widget=GovSubmitInput())


class DomainRequestForm(Form):
    name = StringField("Full name", widget=GovTextInput(), validators=NAME)
    email = StringField("Work email address", widget=GovTextInput(), validators=EMAIL)
    council_name = StringField(
        "Council or organisation you work for",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the name of the council or organisation you work for"),
            Length(max=200, message="Council name must be 200 characters or fewer"),
        ],
    )
    submit = SubmitField("Ask an organiser", widget=GovSubmitInput())
