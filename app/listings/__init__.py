"""Listings: market research (price lists, the optional price provider, pricing rules), SEO, the
listing built for each product and its exports. The pipeline runs three of these as phases
(app.listings.phases) after its own analysis phase."""
