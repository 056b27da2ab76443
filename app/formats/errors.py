"""Whole-file refusals raised by the readers; each message tells the user what to fix."""

from __future__ import annotations


class FormatRejected(ValueError):
    """The whole file cannot be used; ``message`` tells the user what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsvRejected(FormatRejected):
    """A CSV file that cannot be read as a table."""


class NotText(CsvRejected):
    """The file is binary (an image, an archive, a workbook...), not text."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class TooManyColumns(CsvRejected):
    """The table is wider than the readers accept."""

    def __init__(self, message: str, *, columns: int, limit: int, row_number: int) -> None:
        super().__init__(message)
        self.columns, self.limit, self.row_number = columns, limit, row_number


class FieldTooLarge(CsvRejected):
    """A value (or a line without a break) is longer than the reader's limit."""

    def __init__(self, message: str, *, row_number: int, limit: int) -> None:
        super().__init__(message)
        self.row_number, self.limit = row_number, limit


class JsonRejected(FormatRejected):
    """A JSON document that is too large or too deeply nested to read."""


class JsonSyntaxError(JsonRejected):
    """Not valid JSON; ``detail`` says what and where, ``line``/``column`` are 1-based."""

    def __init__(self, detail: str, *, line: int, column: int) -> None:
        super().__init__(f"The file is not valid JSON: {detail}")
        self.detail, self.line, self.column = detail, line, column
