"""Forms for sign-in and user administration."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.core.auth import MIN_PASSWORD_LENGTH
from app.core.models import Role

ROLE_CHOICES = [(r.value, r.label) for r in Role]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired()], filters=[_strip])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in on this computer")


class UserCreateForm(FlaskForm):
    # The address format is checked by the users service, the one place that creates users.
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)], filters=[_strip])
    name = StringField("Name", validators=[Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.STAFF.value)
    password = PasswordField("Password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)])


class UserRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class SecondFactorForm(FlaskForm):
    code = StringField("Code from your authenticator app, or a recovery code",
                       validators=[DataRequired(), Length(max=40)], filters=[_strip])
