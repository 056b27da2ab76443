"""Kind enums shared by every domain: readable labels and portable columns (statuses: app.core.statuses)."""
from __future__ import annotations

import enum
from collections.abc import Mapping

from sqlalchemy import Enum


class LabelledEnum(str, enum.Enum):
    """A string enum whose members read well on a page ("in_production" → "In production"), with
    exceptions given by `set_labels` ("whatsapp" → "WhatsApp")."""

    @property
    def label(self) -> str:
        overrides = type(self).__dict__.get("_labels") or {}
        return overrides.get(self.value) or self.value.replace("_", " ").capitalize()


def set_labels(cls: type[LabelledEnum], labels: Mapping[str, str]) -> type[LabelledEnum]:
    """Labels for members whose value does not read well as it is (keyed by value)."""
    type.__setattr__(cls, "_labels", dict(labels))
    return cls


def db_enum(cls: type[enum.Enum], *, length: int) -> Enum:
    """A VARCHAR column holding the members' values: the same schema on SQLite and PostgreSQL."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)
