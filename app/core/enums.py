"""Status and kind enums shared by every domain: readable labels and portable columns."""
from __future__ import annotations

import enum

from sqlalchemy import Enum


class LabelledEnum(str, enum.Enum):
    """A string enum whose members read well on a page ("in_production" → "In production")."""

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def db_enum(cls: type[enum.Enum], *, length: int) -> Enum:
    """A VARCHAR column holding the members' values: the same schema on SQLite and PostgreSQL."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)
