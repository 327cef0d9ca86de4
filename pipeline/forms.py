"""Form helpers shared by every blueprint."""

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import Field, FieldList, SelectChoice

from pipeline.services.errors import ServiceError


class Form(FlaskForm):
    """A FlaskForm that can show a service's error next to the field it concerns."""

    class Meta:
        # CSRFProtect checks the token on every POST before any view runs (see create_app),
        # so forms do not check it again; templates add it with components/form.html.
        csrf = False

    def add_service_error(self, error: ServiceError) -> None:
        """Attach a service error to its field (or its list of entries), or to the form when it names none."""
        field = getattr(self, error.field, None) if error.field else None
        if isinstance(field, FieldList):
            field.list_errors = [*getattr(field, "list_errors", []), error.message]
        elif isinstance(field, Field):
            field.errors = [*field.errors, error.message]
        else:
            self.form_errors.append(error.message)

    def error_summary(self) -> list[dict]:
        """Every error on the form, each linking to its field, for the GOV.UK error summary."""
        items = [{"text": message, "href": "#main-content"} for message in self.form_errors]
        for field in self:
            if isinstance(field, FieldList):
                items += [{"text": m, "href": f"#{field.id}"} for m in getattr(field, "list_errors", [])]
                for entry in field:
                    for subfield in entry.form:
                        items += [{"text": m, "href": f"#{subfield.id}"} for m in subfield.errors]
            elif field.errors and field.name != "csrf_token":
                items += [{"text": message, "href": f"#{field.id}"} for message in field.errors[:1]]
        return items

    @property
    def has_errors(self) -> bool:
        return bool(self.error_summary())


def choices(pairs) -> list[SelectChoice]:
    """SelectChoice objects from (value, label) pairs (WTForms 3.3 deprecates tuples)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class DateInputField(Field):
    """A GOV.UK date input (day, month, year boxes) that may be left empty."""

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, invalid_message="Enter a real date", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message

    def _value(self):
        return ""

    def process_formdata(self, valuelist):
        parts = [str(v).strip() for v in valuelist][:3]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        try:
            day, month, year = (int(p) for p in parts)
            if year < 1900 or year > 2200:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(self.invalid_message) from None

    def process_data(self, value):
        self.data = value
        self.raw_data = value.strftime("%d %m %Y").split(" ") if value else None
