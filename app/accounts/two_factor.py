"""Two-factor sign-in: TOTP codes (RFC 6238, any authenticator app), ten single-use recovery codes
stored hashed, and the organisation's policy (optional, required for admins, or for everyone).

A code is accepted within one 30-second step either side of the server's clock, and each step
only once (a code seen over someone's shoulder cannot be used again).
"""
from __future__ import annotations

import secrets
from datetime import timedelta

import pyotp
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash

from app.accounts.models import OrganisationSecurity, RecoveryCode, TwoFactorPolicy, UserSecurity
from app.accounts.sessions import digest, security_for
from app.core import audit
from app.core.errors import Conflict, InvalidInput
from app.core.models import Role, User, utcnow
from app.extensions import db

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
WRONG_CODE = "That code is not right (or was used already). Type the 6 digits your app shows now, or a recovery code."


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=current_app.config["TWO_FACTOR_ISSUER"])


def qr_svg(uri: str) -> Markup:
    """The QR code of `uri` as inline SVG, drawn on the server (no image service, no script)."""
    import segno  # only the enrolment page draws a QR code

    return Markup(segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff", title="QR code"))


def _clean_code(code: str) -> str:
    return "".join((code or "").split()).lower()


def _totp_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step at which `code` is right (now ± one step), if later than `after`."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp, now = pyotp.TOTP(secret), utcnow()
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=30 * offset)
        step = totp.timecode(moment)
        if secrets.compare_digest(totp.at(moment), code) and (after is None or step > after):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(organisation_id=user.organisation_id, user_id=user.id,
                                    code_hash=digest(raw)))
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    raw = code.replace("-", "")
    if len(raw) != 10:
        return False
    row_id = db.session.scalar(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest(raw), RecoveryCode.used_at.is_(None)))
    if row_id is None:
        return False
    return db.session.execute(update(RecoveryCode).where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
                              .values(used_at=utcnow())).rowcount == 1


def _check_second_factor(user: User, security: UserSecurity, code: str) -> str | None:
    """'totp' or 'recovery' when the code is good (and now used up), else None. Does not commit."""
    code = _clean_code(code)
    step = _totp_step(security.totp_secret, code, security.totp_last_step)
    if step is not None:
        security.totp_last_step = step
        return "totp"
    return "recovery" if _use_recovery_code(user, code) else None


def second_factor_verify(*, user: User, code: str) -> str | None:
    """Check a sign-in's second factor; 'totp' or 'recovery' when good, else None. Commits."""
    security = security_for(user)
    if not security.two_factor_enabled:
        return None
    how = _check_second_factor(user, security, code)
    if how == "recovery":
        audit.record(org_id=user.organisation_id, actor_id=user.id, action="user.recovery_code_used",
                     object_type="user", object_id=user.id, after={"left": recovery_codes_left(user)})
    db.session.commit()
    return how


def two_factor_enable(*, user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor on once a code from the new secret proves the app has it; returns the
    recovery codes (shown once). Commits."""
    security = security_for(user)
    if security.two_factor_enabled:
        raise Conflict("Two-factor sign-in is already on. Turn it off first to move it to another app.")
    if not secret or len(secret) > 64:
        raise InvalidInput("The set-up expired; start again.", field="code")
    step = _totp_step(secret, _clean_code(code), None)
    if step is None:
        db.session.rollback()
        raise InvalidInput(WRONG_CODE, field="code")
    security.totp_secret, security.totp_enabled_at, security.totp_last_step = secret, utcnow(), step
    codes = _new_recovery_codes(user)
    audit.record(org_id=user.organisation_id, actor_id=user.id, action="user.two_factor_on", object_type="user",
                 object_id=user.id)
    db.session.commit()
    return codes


def two_factor_disable(*, user: User, password: str, code: str) -> None:
    """Turn two-factor off with the password and a current code; refused where the policy requires it."""
    security = security_for(user)
    if not security.two_factor_enabled:
        raise Conflict("Two-factor sign-in is already off.")
    if policy_requires(user):
        raise Conflict("Your organisation requires two-factor sign-in for you; it cannot be turned off.")
    if not check_password_hash(user.password_hash, password or ""):
        raise InvalidInput("That is not your current password.", field="password")
    if _check_second_factor(user, security, code) is None:
        db.session.rollback()
        raise InvalidInput(WRONG_CODE, field="code")
    security.totp_secret = security.totp_enabled_at = security.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(org_id=user.organisation_id, actor_id=user.id, action="user.two_factor_off", object_type="user",
                 object_id=user.id)
    db.session.commit()


def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """Replace every recovery code (the old ones stop working) after a current code. Commits."""
    security = security_for(user)
    if not security.two_factor_enabled:
        raise Conflict("Turn two-factor sign-in on first.")
    if _check_second_factor(user, security, code) is None:
        db.session.rollback()
        raise InvalidInput(WRONG_CODE, field="code")
    codes = _new_recovery_codes(user)
    audit.record(org_id=user.organisation_id, actor_id=user.id, action="user.recovery_codes_new",
                 object_type="user", object_id=user.id)
    db.session.commit()
    return codes


def recovery_codes_left(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                                RecoveryCode.used_at.is_(None))).all())


def two_factor_enabled(user: User) -> bool:
    security = db.session.get(UserSecurity, user.id)
    return security is not None and security.two_factor_enabled


# --- the organisation's policy -----------------------------------------------------------------

def policy_get(org_id: int) -> TwoFactorPolicy:
    row = db.session.get(OrganisationSecurity, org_id)
    return row.two_factor if row is not None else TwoFactorPolicy.OPTIONAL


def policy_requires(user: User) -> bool:
    """Whether the organisation's policy makes two-factor sign-in mandatory for this user."""
    policy = policy_get(user.organisation_id)
    return policy == TwoFactorPolicy.EVERYONE or (policy == TwoFactorPolicy.ADMINS and user.role == Role.ADMIN)


def policy_set(*, org_id: int, policy: str, by: User) -> TwoFactorPolicy:
    """Make two-factor sign-in optional, or required for admins or for everyone. Commits."""
    try:
        value = TwoFactorPolicy(policy)
    except ValueError:
        raise InvalidInput("Choose optional, admins or everyone.", field="two_factor") from None
    row = db.session.get(OrganisationSecurity, org_id)
    before = row.two_factor.value if row is not None else TwoFactorPolicy.OPTIONAL.value
    if row is None:
        row = OrganisationSecurity(organisation_id=org_id, two_factor=value)
        db.session.add(row)
    row.two_factor, row.updated_at = value, utcnow()
    audit.record(org_id=org_id, actor_id=by.id, action="organisation.two_factor_policy",
                 object_type="organisation", object_id=org_id, before={"two_factor": before},
                 after={"two_factor": value.value})
    db.session.commit()
    return value
