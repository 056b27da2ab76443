"""Inventory: items, categories, the stock ledger, supplier imports and low-stock alerts."""
