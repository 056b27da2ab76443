"""Reference product data: GTIN → name, brand, quantity, categories, shared by every organisation.

Loaded by an operator (`flask refdata import FILE`, e.g. the Open Food Facts export) and, when
`GTIN_LOOKUP_URL` is set, filled on demand by an online look-up whose answers are kept here.
Users only read it, through identification.
"""
