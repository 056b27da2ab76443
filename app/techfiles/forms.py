"""Forms of the tech file pages (Flask-WTF: every one carries the CSRF token).

Fields stay text where the service checks the value, so a refused form shows what was typed
next to the message."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.techfiles.measurements import UNITS
from app.techfiles.models import STEP_LABEL, STEPS, CollectionKind


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CollectionStartForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=120)], filters=[_strip],
                       render_kw={"placeholder": "Winter 2025 line"})
    kind = SelectField("Kind", choices=[(k.value, k.label) for k in CollectionKind], default="tech_pack")
    revision = StringField("Revision", default="1", filters=[_strip])
    sections = MultiCheckbox("Sections", choices=[(s, STEP_LABEL[s]) for s in STEPS], validate_choice=False)
    force = BooleanField("Make every file again, even unchanged ones (charges credits)")


class ShareForm(FlaskForm):
    label = StringField("For whom", validators=[DataRequired(message="Say who the link is for."), Length(max=120)],
                        filters=[_strip], render_kw={"placeholder": "Ningbo factory"})
    days = StringField("Works for (days)", default="14", filters=[_strip])
    collection_id = SelectField("What", choices=[("", "The latest files and complete pack")], validate_choice=False)


class RenameForm(FlaskForm):
    label = StringField("Name of this shot", validators=[Length(max=80)], filters=[_strip])


class ScaleReferenceForm(FlaskForm):
    label = StringField("What is measured", default="Length", filters=[_strip])
    length = StringField("Known length", filters=[_strip])
    unit = SelectField("Unit", choices=[(u, u) for u in UNITS], default="cm")
    x1 = StringField("From x (%)", filters=[_strip])
    y1 = StringField("From y (%)", filters=[_strip])
    x2 = StringField("To x (%)", filters=[_strip])
    y2 = StringField("To y (%)", filters=[_strip])

    def points(self) -> dict:
        return {k: getattr(self, k).data for k in ("x1", "y1", "x2", "y2")}


class ReasonForm(FlaskForm):
    reason = StringField("Why", validators=[Optional(), Length(max=500)], filters=[_strip])


class AnnotateForm(ReasonForm):
    annotations = TextAreaField("Callouts and measurements", validators=[Length(max=5000)])


class RegenerateForm(ReasonForm):
    margin = StringField("Margin", filters=[_strip])
    threshold = StringField("Threshold", filters=[_strip])
    count = StringField("Count", filters=[_strip])
    window = StringField("Window", filters=[_strip])
    detail = StringField("Detail", filters=[_strip])
    min_cluster = StringField("Minimum cluster", filters=[_strip])

    def params(self) -> dict:
        return {k: getattr(self, k).data for k in ("margin", "threshold", "count", "window", "detail", "min_cluster")}
