"""Inventory background jobs: thin, idempotent, given ids."""
from app.inventory import imports


def run_supplier_import(import_id: int) -> None:
    imports.supplier_import_run(import_id=import_id)
