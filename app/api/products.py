"""/api/v1/products: create a product from photos, read it with its phases and evidence,
start, stop and retry its pipeline. The same service and upload checks as the upload page."""
from __future__ import annotations

from flask import request

from app.api.endpoints import caller, listing, one, operation, org_id, status_of, uploaded_files
from app.api.http import json_response
from app.api.problems import ApiProblem
from app.api.schemas import ImageOut, PhaseOut, ProductCreated, ProductOut, ProductPage, ProductQuery, ProductUploadIn
from app.pipeline import services as pipeline
from app.pipeline.models import Product

WRITE = {"scope": "products:write", "tag": "products", "answer": ProductOut, "row": (Product, "product_id")}


def product_out(product: Product) -> dict:
    phases = [PhaseOut(name=p.name, status=status_of(p.status), attempts=p.attempts, error=p.error,
                       started_at=p.started_at, finished_at=p.finished_at)
              for p in sorted(product.phases, key=lambda p: p.position)]
    images = [ImageOut(id=i.id, filename=i.filename, format=i.format, width=i.width, height=i.height,
                       size_bytes=i.size_bytes) for i in sorted(product.images, key=lambda i: i.position)]
    return ProductOut(id=product.id, status=status_of(product.status), name=product.name, brand=product.brand,
                      model=product.model, category=product.category, gtin=product.gtin,
                      condition=status_of(product.condition), confidence=product.confidence,
                      confidence_source=product.confidence_source, evidence=product.evidence,
                      created_at=product.created_at, images=images, phases=phases).model_dump(mode="json")


@operation("GET", "/products", scope="products:read", tag="products", query=ProductQuery, answer=ProductPage)
def products_list():
    """Products of the intake pipeline, newest first."""
    return listing(Product, product_out, load=(Product.phases, Product.images), status=Product.status)


@operation("GET", "/products/<int:product_id>", scope="products:read", tag="products", answer=ProductOut)
def product_get(product_id: int):
    """One product with its photos, its phases and the evidence the analysis recorded."""
    return one(Product, product_id, product_out)


@operation("POST", "/products", scope="products:write", tag="products", form=ProductUploadIn,
           answer=ProductCreated, status=201, uploads=True)
def product_create():
    """Create a product from 1–20 photos (multipart/form-data, field `photos`, repeated).

    Each photo is checked by its content as on the upload page (JPEG, PNG, WebP, HEIF where
    available; size and pixel limits). With at least one usable photo the product is created and
    the others are listed in `photos_rejected`; with none, nothing is created (422 naming each file).
    The pipeline starts at once with `start=true`; otherwise start it later."""
    files = [(f.filename or "", f.stream) for f in uploaded_files("photos", "the photos")]
    form = request.context.form
    result = pipeline.product_create(org_id=org_id(), by=caller(), files=files, hint_name=form.name,
                                     hint_model=form.model, condition=form.condition.value, start=form.start)
    rejected = [{"field": "photos", "message": f"{e.filename}: {e.reason}"} for e in result.errors]
    if result.product is None:
        raise ApiProblem(422, "No photo could be used, so no product was created.", errors=rejected)
    body = {**product_out(result.product), "photos_accepted": result.accepted,
            "photos_rejected": [{"filename": e.filename, "reason": e.reason} for e in result.errors]}
    return json_response(body, 201, {"Location": f"/api/v1/products/{result.product.id}"})


@operation("POST", "/products/<int:product_id>/start", **WRITE)
def product_start(product_id: int):
    """Start the pipeline of an uploaded (or stopped) product."""
    return json_response(product_out(pipeline.product_start(org_id=org_id(), product_id=product_id, by=caller())))


@operation("POST", "/products/<int:product_id>/stop", **WRITE)
def product_stop(product_id: int):
    """Stop a product's running pipeline."""
    return json_response(product_out(pipeline.product_stop(org_id=org_id(), product_id=product_id, by=caller())))


@operation("POST", "/products/<int:product_id>/retry", **WRITE)
def product_retry(product_id: int):
    """Retry the failed phase of a product."""
    return json_response(product_out(pipeline.product_retry(org_id=org_id(), product_id=product_id, by=caller())))
