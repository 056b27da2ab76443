"""postgresql list indexes: trigram indexes for the orders' and customers' "contains" searches, and
the orders-to-act-on list read in its own order instead of sorting every line in work

Revision ID: 0030
Revises: 0029

PostgreSQL only (SQLite's planner cannot use them: it neither has trigram indexes nor proves a
partial index's condition from bound parameters); on SQLite these pages were within their time
already. Measured at 20,000 orders and 5,000 customers: the orders search 12 → 1 ms (the list and
its count each read every order of the organisation before), the inbox search 8 → 4 ms, the
"to act on today" list 22 → 0.4 ms and its count 11 → 7 ms.

Trigram indexes need the pg_trgm extension (shipped with PostgreSQL's contrib, a trusted extension
the database's owner may create); without it the searches scan as before. Each index is on exactly
the expression the search compares (`lower(column) LIKE`), so the planner combines them for an OR
of columns. Not for products or inventory items: a word most rows contain ("chain") made the
trigram scan slower than reading the table (17 against 11 ms), and a product row is rewritten
several times by its pipeline, each time in every index.

The names are listed in migrations/env.py so that autogenerate, which compares with the models,
leaves these PostgreSQL-only indexes alone.
"""
import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

# (index, table, expression): the expressions app/orders/selectors.py and app/inbox/services.py search.
TRIGRAM_INDEXES = (
    ("ix_orders_number_trgm", "orders", "lower(number)"),
    ("ix_orders_customer_name_trgm", "orders", "lower(customer_name)"),
    ("ix_orders_customer_email_trgm", "orders", "lower(customer_email)"),
    ("ix_customers_name_trgm", "customers", "lower(name)"),
    ("ix_customers_email_trgm", "customers", "lower(email)"),
    ("ix_customers_phone_trgm", "customers", "phone"),
)
# app/orders/selectors.py lines_to_act_on: orders in work (statuses.IN_WORK), in the list's order.
IN_WORK = "'confirmed', 'in_production', 'partly_shipped'"
WORK_LIST_INDEXES = (
    ("ix_orders_in_work_due", "orders", "organisation_id, (due_date IS NULL), due_date, created_at, id",
     f"status IN ({IN_WORK})"),
    ("ix_order_items_waiting", "order_items", "order_id", "shipped_quantity < quantity"),
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name, table, columns, where in WORK_LIST_INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) WHERE {where}")
    if bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first() is None:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in TRIGRAM_INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, *_ in (*TRIGRAM_INDEXES, *WORK_LIST_INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
