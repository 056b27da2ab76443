"""ai calls: one table for every model and provider call (vision, price, text, image), with the
object each call served; the pipeline's provider_calls and the inbox's usage_records move into it

Revision ID: 0011
Revises: 0010

Downgrade puts vision and price calls back into provider_calls and the inbox's text-model calls
into usage_records; calls that had no place there before (batch and tech-file calls, calls not
sent because of the budget) are dropped with ai_calls.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

AI_COLUMNS = ("organisation_id", "capability", "provider", "model", "ok", "over_budget", "retried", "attempts",
              "prompt_tokens", "completion_tokens", "cost", "currency", "duration_ms", "error", "object_type",
              "object_id", "parent_type", "parent_id", "created_at")


def _ai_calls_table():
    return sa.table("ai_calls", *(sa.column(c) for c in AI_COLUMNS), sa.column("id"))


def _text(value, length):
    return sa.cast(sa.literal(value), sa.String(length))


def _null(kind):
    return sa.cast(sa.null(), kind)


def upgrade():
    op.create_table(
        "ai_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("capability", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(80), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("over_budget", sa.Boolean(), nullable=False),
        sa.Column("retried", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(14, 6), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("object_type", sa.String(32), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("parent_type", sa.String(32), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name="fk_ai_calls_organisation_id_organisations"),
        sa.PrimaryKeyConstraint("id", name="pk_ai_calls"),
    )
    with op.batch_alter_table("ai_calls") as batch_op:
        batch_op.create_index("ix_ai_calls_organisation_id_created_at", ["organisation_id", "created_at"])
        batch_op.create_index("ix_ai_calls_object", ["organisation_id", "object_type", "object_id"])
        batch_op.create_index("ix_ai_calls_parent", ["organisation_id", "parent_type", "parent_id"])
    _copy_provider_calls()
    _copy_usage_records()
    op.drop_table("provider_calls")
    op.drop_table("usage_records")


def _copy_provider_calls():
    pc = sa.table("provider_calls", *(sa.column(c) for c in (
        "id", "organisation_id", "product_id", "phase", "provider", "model", "ok", "prompt_tokens",
        "completion_tokens", "cost", "currency", "duration_ms", "error", "created_at")))
    known = pc.c.product_id.is_not(None)
    select = sa.select(
        pc.c.organisation_id, sa.case((pc.c.phase == "market", _text("price", 16)), else_=_text("vision", 16)),
        pc.c.provider, pc.c.model, pc.c.ok, sa.false(), sa.false(), sa.literal(1), pc.c.prompt_tokens,
        pc.c.completion_tokens, pc.c.cost, pc.c.currency, pc.c.duration_ms, pc.c.error,
        sa.case((known, _text("product", 32)), else_=_null(sa.String(32))), pc.c.product_id,
        _null(sa.String(32)), _null(sa.Integer()), pc.c.created_at).order_by(pc.c.id)
    op.execute(_ai_calls_table().insert().from_select(AI_COLUMNS, select))


def _copy_usage_records():
    ur = sa.table("usage_records", *(sa.column(c) for c in (
        "id", "organisation_id", "message_id", "tokens_in", "tokens_out", "cost", "currency", "ok",
        "created_at")), sa.column("provider", sa.String(80)))
    messages = sa.table("messages", sa.column("id"), sa.column("conversation_id"))
    known = ur.c.message_id.is_not(None)
    model = sa.case((ur.c.provider.like("text-model:%"), sa.func.substr(ur.c.provider, 12)), else_=ur.c.provider)
    select = sa.select(
        ur.c.organisation_id, _text("text", 16), _text("openai-compatible", 80), model, ur.c.ok, sa.false(),
        sa.false(), sa.literal(1), ur.c.tokens_in, ur.c.tokens_out, ur.c.cost, ur.c.currency, sa.literal(0),
        sa.case((ur.c.ok.is_(sa.false()), _text("failed (recorded before ai_calls kept reasons)", 60)),
                else_=_null(sa.Text())),
        sa.case((known, _text("message", 32)), else_=_null(sa.String(32))), ur.c.message_id,
        sa.case((known, _text("conversation", 32)), else_=_null(sa.String(32))), messages.c.conversation_id,
        ur.c.created_at).select_from(ur.outerjoin(messages, messages.c.id == ur.c.message_id)).order_by(ur.c.id)
    op.execute(_ai_calls_table().insert().from_select(AI_COLUMNS, select))


def downgrade():
    op.create_table(
        "provider_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(32), nullable=True),
        sa.Column("provider", sa.String(80), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(14, 6), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name="fk_provider_calls_organisation_id_organisations"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="SET NULL",
                                name="fk_provider_calls_product_id_products"),
        sa.PrimaryKeyConstraint("id", name="pk_provider_calls"),
    )
    with op.batch_alter_table("provider_calls") as batch_op:
        batch_op.create_index("ix_provider_calls_organisation_id", ["organisation_id"])
        batch_op.create_index("ix_provider_calls_product_id", ["product_id"])
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(80), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(12, 4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name="fk_usage_records_organisation_id_organisations"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL",
                                name="fk_usage_records_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_usage_records"),
    )
    with op.batch_alter_table("usage_records") as batch_op:
        batch_op.create_index("ix_usage_records_organisation_id", ["organisation_id"])
        batch_op.create_index("ix_usage_records_created_at", ["created_at"])
    _copy_back()
    op.drop_table("ai_calls")


def _copy_back():
    ai = sa.table("ai_calls", *(sa.column(c) for c in AI_COLUMNS if c != "model"), sa.column("id"),
                  sa.column("model", sa.String(120)))
    products = sa.table("products", sa.column("id"))
    messages = sa.table("messages", sa.column("id"))
    sent = ai.c.over_budget.is_(sa.false())
    # Ids of rows deleted since are kept as NULL, as the old foreign keys (ON DELETE SET NULL) would have.
    product_id = sa.select(products.c.id).where(products.c.id == ai.c.object_id,
                                                ai.c.object_type == "product").scalar_subquery()
    pipeline = sa.select(
        ai.c.organisation_id, product_id, sa.case((ai.c.capability == "price", _text("market", 32)),
                                                  else_=_text("analysis", 32)),
        ai.c.provider, ai.c.model, ai.c.ok, ai.c.prompt_tokens, ai.c.completion_tokens, ai.c.cost, ai.c.currency,
        ai.c.duration_ms, ai.c.error, ai.c.created_at).where(
        ai.c.capability.in_(("vision", "price")), sent).order_by(ai.c.id)
    op.execute(sa.table("provider_calls", *(sa.column(c) for c in (
        "organisation_id", "product_id", "phase", "provider", "model", "ok", "prompt_tokens", "completion_tokens",
        "cost", "currency", "duration_ms", "error", "created_at"))).insert().from_select(
        ["organisation_id", "product_id", "phase", "provider", "model", "ok", "prompt_tokens", "completion_tokens",
         "cost", "currency", "duration_ms", "error", "created_at"], pipeline))
    message_id = sa.select(messages.c.id).where(messages.c.id == ai.c.object_id,
                                                ai.c.object_type == "message").scalar_subquery()
    inbox = sa.select(
        ai.c.organisation_id, sa.literal("text-model:", sa.String(80)) + ai.c.model, message_id, sa.literal(1),
        ai.c.prompt_tokens, ai.c.completion_tokens, sa.func.coalesce(ai.c.cost, 0), ai.c.currency, ai.c.ok,
        ai.c.created_at).where(ai.c.capability == "text", sa.or_(ai.c.object_type == "message", ai.c.object_type.is_(None)),
                               sent).order_by(ai.c.id)
    columns = ["organisation_id", "provider", "message_id", "calls", "tokens_in", "tokens_out", "cost", "currency",
               "ok", "created_at"]
    op.execute(sa.table("usage_records", *(sa.column(c) for c in columns)).insert().from_select(columns, inbox))
