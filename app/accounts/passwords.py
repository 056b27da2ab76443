"""The password rules every new password meets: long enough, not common, not the person's own name.

Common passwords come from zxcvbn's list of the 30,000 most used ones; zxcvbn's estimate also
catches their small variations ("Password2024!") and keyboard walks.
"""
from __future__ import annotations

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_SCORE = 3  # zxcvbn: "safely unguessable: moderate protection from offline slow-hash scenario"


def _common() -> frozenset[str]:
    words = FREQUENCY_LISTS["passwords"]
    return frozenset(words.split(",") if isinstance(words, str) else words)


COMMON = _common()


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why this password is refused, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Passwords need at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Passwords are at most {MAX_LENGTH} characters."
    if password.lower() in COMMON:
        return "This is one of the most common passwords; choose another."
    inputs = [part for value in user_inputs if value for part in (value, *value.replace("@", " ").split())]
    if any(password.lower() == value.lower() for value in inputs):
        return "The password cannot be your e-mail address or name."
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or "It is too easy to guess."
        return f"{warning.rstrip('.')}. Add a few more words or characters."
    return None


def check_password(password: str, *, user_inputs: tuple[str, ...] = (), field: str = "password") -> None:
    """Raise InvalidInput (naming the field) when the password breaks a rule."""
    problem = password_problem(password or "", user_inputs=user_inputs)
    if problem:
        raise InvalidInput(problem, field=field)
