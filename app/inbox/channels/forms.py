"""The channel form: one form for every provider; the fields a provider does not use are ignored."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from app.inbox.channels.models import KIND_PROVIDERS, PROVIDER_FIELDS
from app.inbox.models import Channel

KIND_CHOICES = [(k.value, k.label) for k in Channel]
PROVIDER_CHOICES = list(dict.fromkeys((p.value, p.label) for providers in KIND_PROVIDERS.values() for p in providers))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ChannelForm(FlaskForm):
    kind = SelectField("Kind", choices=KIND_CHOICES)
    provider = SelectField("Provider", choices=PROVIDER_CHOICES)
    name = StringField("Name", validators=[Length(max=80)], filters=[_strip])
    address = StringField("Our number or address", validators=[Length(max=254)], filters=[_strip])
    account_sid = StringField("Account SID", filters=[_strip])
    auth_token = PasswordField("Auth Token")
    phone_number_id = StringField("Phone number ID", filters=[_strip])
    verify_token = StringField("Verify token", filters=[_strip])
    access_token = PasswordField("Access token")
    app_secret = PasswordField("App secret")
    signing_key = PasswordField("HTTP webhook signing key")
    relay_secret = PasswordField("Relay signing secret")
    host = StringField("SMTP host", filters=[_strip])
    port = StringField("Port", filters=[_strip])
    username = StringField("User name", filters=[_strip])
    password = PasswordField("Password")
    starttls = BooleanField("Use STARTTLS")
    active = BooleanField("Active", default=True)

    def provider_values(self) -> tuple[dict, dict]:
        """(settings, secrets) as typed, for the service to check."""
        settings = {name: (self[name].data or "") for f in PROVIDER_FIELDS.values() for name in f["settings"]
                    if name != "starttls"}
        settings["starttls"] = "yes" if self.starttls.data else "no"
        secrets = {name: (self[name].data or "") for f in PROVIDER_FIELDS.values() for name in f["secrets"]}
        return settings, secrets


class TestMessageForm(FlaskForm):
    to = StringField("Send a test message to", validators=[Length(max=254)], filters=[_strip])


class TemplateForm(FlaskForm):
    """A WhatsApp template as approved at Meta; the service checks the values against Meta's rules."""

    name = StringField("Template name", validators=[Length(max=512)], filters=[_strip])
    language = StringField("Language code", validators=[Length(max=15)], filters=[_strip])
    body_params = StringField("Body parameters", validators=[Length(max=3)], filters=[_strip], default="0")
    preview = TextAreaField("Body text", validators=[Length(max=4000)])
