"""The API's request and answer shapes (pydantic): the OpenAPI document is generated from them."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from spectree.model_adapter.pydantic_adapter import BaseFile

from app.batches.csv_intake import FIELDS as BATCH_FIELDS
from app.batches.statuses import BatchStatus, RowStatus
from app.orders.statuses import OrderStatus
from app.pipeline.models import Condition
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


class ImageOut(BaseModel):
    id: int
    filename: str | None = Field(description="The uploader's file name, as a label only.")
    format: str
    width: int
    height: int
    size_bytes: int


class ProductOut(BaseModel):
    id: int
    status: str
    name: str | None
    brand: str | None
    model: str | None
    category: str | None
    gtin: str | None
    condition: str
    confidence: int | None = Field(description="0–100, from the analysis; null when nothing could be known.")
    confidence_source: str | None
    evidence: dict | None = Field(description="What the analysis saw, as recorded by the pipeline.")
    created_at: datetime
    images: list[ImageOut] = Field(description="The photos in order; the first is the main one.")
    phases: list[PhaseOut]


class ProductUploadIn(Strict):
    photos: list[BaseFile] = Field(min_length=1, description="1–20 photos, one part each; checked by content "
                                                             "(JPEG, PNG, WebP; HEIF where the server reads it).")
    name: str = Field("", max_length=200, description="What the product is called, if you know (kept as typed).")
    model: str = Field("", max_length=120, description="Its model, if you know.")
    condition: Condition = Field(Condition.UNKNOWN)
    start: bool = Field(False, description="Start the pipeline at once (otherwise POST …/start later).")

    @field_validator("photos", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        # One part arrives as a single value, several as a list.
        return value if isinstance(value, list) else [value]


class FileRejection(BaseModel):
    filename: str
    reason: str


class ProductCreated(ProductOut):
    photos_accepted: list[str] = Field(description="The file names of the photos the product was made of.")
    photos_rejected: list[FileRejection] = Field(description="Photos that could not be used, with why.")


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


class BatchProblemOut(BaseModel):
    row: int | None
    column: str | None
    message: str
    severity: str


class BatchValidationOut(BaseModel):
    total_rows: int
    problem_count: int
    rows_with_problems: int
    blank_rows: int
    truncated: bool = Field(description="More problems were found than are listed.")
    problems: list[BatchProblemOut]


class BatchOut(BaseModel):
    id: int
    filename: str
    status: str
    total_rows: int
    processed_rows: int
    successful_rows: int
    failed_rows: int
    percent: int = Field(description="Rows processed out of all rows, 0–100.")
    mapping: dict[str, str] = Field(description="Field → column of the file: suggested at upload, "
                                                "as checked when the batch started.")
    validation: BatchValidationOut | None = Field(description="The check of every row against the mapping "
                                                              "(made when the batch starts); null before.")
    error: str | None
    error_report: str | None = Field(description="Where the CSV of failed rows is, once a row has failed.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BatchUploadIn(Strict):
    file: BaseFile = Field(description="The CSV file (any common encoding and delimiter; detected).")


class BatchStartIn(Strict):
    mapping: dict[Literal[BATCH_FIELDS], Annotated[str, Field(max_length=255)]] | None = Field(
        None, description="Field → column name of the file; `title` is required. Leave out to use the "
                          "mapping suggested at upload (see the batch's `mapping`).")
    max_concurrent_jobs: int | None = Field(None, ge=1, le=8, description="Rows worked on at once.")


class RowQuery(ListQuery):
    status: RowStatus | None = Field(None, description="Only rows in this status (`failed` for the errors).")


class BatchRowOut(BaseModel):
    id: int
    row_number: int = Field(description="The line of the file the row came from.")
    status: str
    data: dict = Field(description="The row as read from the file, by column.")
    results: dict | None = Field(description="What was made from the row (texts, images, tags) once done.")
    error: str | None
    error_column: str | None
    retry_count: int
    duration_ms: int | None
    finished_at: datetime | None


class BatchRowPage(BaseModel):
    data: list[BatchRowOut]
    next_cursor: str | None


class BatchPage(BaseModel):
    data: list[BatchOut]
    next_cursor: str | None


class AttentionQuery(ListQuery):
    kind: str | None = Field(None, max_length=32, pattern=r"^[a-z0-9_]+$",
                             description="Only items of this kind (e.g. `product_review`); see `kind` on each item.")
    mine: bool = Field(False, description="Only the items you took (assigned to you).")


class AttentionItemOut(BaseModel):
    key: str = Field(description="The item's key, for its actions: `<kind>.<subject>`.")
    kind: str
    kind_label: str
    title: str
    why: str
    level: str = Field(description="info, warning or error.")
    since: datetime | None
    url: str = Field(description="The page where a person resolves it.")
    assigned_to: str | None = Field(description="The e-mail of the person who took it, if someone did.")
    snoozed_until: datetime | None


class AttentionPage(BaseModel):
    data: list[AttentionItemOut]
    next_cursor: str | None
    unavailable: list[str] = Field(description="Kinds whose items could not be read just now (not counted as none).")


class AttentionAssignIn(Strict):
    to_me: bool = Field(True, description="Take the item (true) or give it back (false).")


class AttentionSnoozeIn(Strict):
    until: datetime | None = Field(None, description="Put the item aside until this time (with its zone, at most "
                                                     "90 days ahead); null or left out wakes it now.")
