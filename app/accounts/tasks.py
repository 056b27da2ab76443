"""Background jobs of accounts: thin, idempotent, given ids."""
from app.accounts.mail import mail_send


def send_account_mail(mail_id: int) -> None:
    mail_send(mail_id)
