"""Forms for saving and deleting saved searches: a button each, for the CSRF token."""

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from pipeline.forms import Form


class SaveSearchForm(Form):
    submit = SubmitField("Save this search", widget=GovSubmitInput())


class DeleteSavedSearchForm(Form):
    submit = SubmitField("Delete", widget=GovSubmitInput())
