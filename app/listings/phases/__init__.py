"""The pipeline phases this domain provides: market research, SEO and the listing (each a module
with `run(ctx)`, following the contract in app.pipeline.contract)."""
