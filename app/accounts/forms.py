"""Forms of the account pages, the links sent by e-mail and the admin's account tools."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.accounts.models import TwoFactorPolicy
from app.accounts.passwords import MAX_LENGTH
from app.core.forms import ROLE_CHOICES


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _new_password(label: str = "New password"):
    return PasswordField(label, validators=[DataRequired(), Length(max=MAX_LENGTH)])


def _repeat(field: str):
    return PasswordField("Repeat it", validators=[DataRequired(), EqualTo(field, "The two passwords differ.")])


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = _new_password()
    repeat = _repeat("new")


class ForgotForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)], filters=[_strip])


class ResetForm(FlaskForm):
    password = _new_password()
    repeat = _repeat("password")


class InviteAcceptForm(FlaskForm):
    name = StringField("Your name", validators=[Length(max=120)], filters=[_strip])
    password = _new_password("Choose a password")
    repeat = _repeat("password")


class InviteForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)], filters=[_strip])
    name = StringField("Name", validators=[Length(max=120)], filters=[_strip])
    role = SelectField("Role", choices=ROLE_CHOICES, default="staff")


class CodeForm(FlaskForm):
    code = StringField("Code from your app", validators=[DataRequired(), Length(max=40)], filters=[_strip])


class TwoFactorOffForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired()])
    code = StringField("Code from your app (or a recovery code)", validators=[DataRequired(), Length(max=40)],
                       filters=[_strip])


class PolicyForm(FlaskForm):
    two_factor = SelectField("Two-factor sign-in", choices=[
        (TwoFactorPolicy.OPTIONAL.value, "Optional"), (TwoFactorPolicy.ADMINS.value, "Required for admins"),
        (TwoFactorPolicy.EVERYONE.value, "Required for everyone")])


EXPIRY_CHOICES = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)], filters=[_strip])
    scopes = SelectMultipleField("It may", choices=[], option_widget=CheckboxInput(),
                                 widget=ListWidget(prefix_label=False))
    expires_days = SelectField("Expires after", choices=EXPIRY_CHOICES, default="90")
