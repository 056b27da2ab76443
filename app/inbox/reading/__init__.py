"""Reading customer messages into order lines, offline: no Flask, no database.

    catalogue = Catalogue(entries)          # app.analysis.matching.CatalogueEntry rows
    reading = read(text, catalogue)         # kind, lines, parts not understood
    reading.one_click(threshold)            # the only door to an order without a person

Modules: cleaning (junk and personal data blanked, positions kept), tokens (numbers that are
not quantities), roles (number words, units, filler in six languages), kinds (order, question,
cancellation…), catalogue (word-level product match), reader (quantities and their product
words), message (the whole message and the one-click rule).
"""
from app.inbox.reading.catalogue import Catalogue, ProductMatch
from app.inbox.reading.message import Reading, read
from app.inbox.reading.reader import Line, Part

__all__ = ["Catalogue", "Line", "Part", "ProductMatch", "Reading", "read"]
