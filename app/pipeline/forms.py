"""Forms of the pipeline pages."""
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange


class ThresholdForm(FlaskForm):
    threshold = IntegerField("Confidence needed to skip review (0–100)",
                             validators=[InputRequired("Enter a number from 0 to 100."),
                                         NumberRange(0, 100, "Enter a number from 0 to 100.")])
