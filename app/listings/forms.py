"""Forms of the listings pages."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class PriceListForm(FlaskForm):
    file = FileField("Price list (CSV)")
    name = StringField("Name", validators=[Length(max=200)])
    currency = StringField("Currency of prices written without one", default="EUR",
                           validators=[DataRequired(), Length(min=3, max=3)])
    skip_bad_rows = BooleanField("Save the good rows and skip the rows with errors")
