"""The API's request and answer shapes (pydantic): the OpenAPI document is generated from them."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.batches.statuses import BatchStatus
from app.orders.statuses import OrderStatus
from app.pipeline.statuses import ProductStatus

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


class Strict(BaseModel):
    # Unknown fields are refused by name rather than silently dropped.
    model_config = ConfigDict(extra="forbid")


class ListQuery(Strict):
    cursor: str | None = Field(None, pattern=r"^[1-9][0-9]{0,17}$",
                               description="`next_cursor` of the previous page (opaque: pass it back as it is).")
    limit: int = Field(50, ge=1, le=100)


class ProductQuery(ListQuery):
    status: ProductStatus | None = Field(None, description="Only products in this status.")


class ItemQuery(ListQuery):
    sku: str | None = Field(None, max_length=64, description="Only the item with this SKU.")


class OrderQuery(ListQuery):
    status: OrderStatus | None = Field(None, description="Only orders in this status.")


class PhaseOut(BaseModel):
    name: str
    status: str
    attempts: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class ProductOut(BaseModel):
    id: int
    status: str
    name: str | None
    brand: str | None
    model: str | None
    category: str | None
    gtin: str | None
    confidence: int | None = Field(description="0–100, from the analysis; null when nothing could be known.")
    confidence_source: str | None
    evidence: dict | None = Field(description="What the analysis saw, as recorded by the pipeline.")
    created_at: datetime
    phases: list[PhaseOut]


class ProductPage(BaseModel):
    data: list[ProductOut]
    next_cursor: str | None


class ItemOut(BaseModel):
    id: int
    sku: str
    title: str
    gtin: str | None
    category: str | None
    price: str | None = Field(description="A decimal string in `currency`.")
    currency: str | None
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    status: str
    updated_at: datetime


class ItemPage(BaseModel):
    data: list[ItemOut]
    next_cursor: str | None


class AdjustmentIn(Strict):
    delta: int = Field(ge=-1_000_000, le=1_000_000, description="Units to add (positive) or remove (negative); not zero.")
    reason: str = Field(min_length=1, max_length=500, description="Why the stock changes.")


class MovementOut(BaseModel):
    id: int
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reason: str | None
    reference: str | None
    created_at: datetime


class MovementPage(BaseModel):
    data: list[MovementOut]
    next_cursor: str | None


class OrderLineOut(BaseModel):
    item_id: int
    sku: str
    title: str
    quantity: int
    unit_price: str
    line_total: str


class OrderOut(BaseModel):
    id: int
    number: str
    status: str
    source: str
    customer_name: str
    customer_email: str
    currency: str
    subtotal: str
    tax: str
    shipping: str
    total: str
    created_at: datetime
    lines: list[OrderLineOut]
    actions: list[str] = Field(description="What can be done with the order in its status now.")


class CustomerIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    shipping_address: str = Field("", max_length=2000)
    billing_address: str = Field("", max_length=2000)


class OrderLineIn(Strict):
    item_id: int = Field(ge=1, le=MAX_ID, description="An inventory item of your organisation.")
    quantity: int = Field(ge=1, le=100000)


class OrderIn(Strict):
    customer: CustomerIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    notes: str = Field("", max_length=2000)


class OrderActionIn(Strict):
    note: str = Field("", max_length=1000, description="Kept in the order's history.")


class OrderPage(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None


class BatchQuery(ListQuery):
    status: BatchStatus | None = Field(None, description="Only batches in this status.")


class BatchOut(BaseModel):
    id: int
    filename: str
    status: str
    total_rows: int
    processed_rows: int
    successful_rows: int
    failed_rows: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BatchPage(BaseModel):
    data: list[BatchOut]
    next_cursor: str | None
