"""Offline readers of files: plain functions with small typed results, no Flask and no database.

- ``encoding``: how bytes become text (BOMs, UTF-16 without BOM, UTF-8, 8-bit code pages), NUL
  and binary refusal, and where a decoding error is.
- ``dialect``: how a CSV is delimited and quoted, lines above its table; ``sniff`` -> ``CsvFormat``.
- ``rows``: streaming records with spreadsheet row numbers, header checks, ragged rows, preview.
- ``mapping``: column suggestions from header names.
- ``money``: displayed prices with currencies, as ``Decimal``.
- ``jsondoc``: JSON documents within depth and size limits.

Every reader works on bounded input: detection looks at a sample, a table has at most
``rows.MAX_COLUMNS`` columns, a line at most ``rows.MAX_LINE_CHARS`` characters, and whole-file
problems raise :class:`errors.FormatRejected` (or a subclass) whose message tells the user what to fix.
"""
