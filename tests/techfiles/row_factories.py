"""Tech file rows of another organisation for the cross-organisation route walk."""
from __future__ import annotations

from app.extensions import db
from app.techfiles import services, shares
from app.techfiles.models import Collection, CollectionKind, CollectionStatus, FileType
from tests.techfiles.helpers import make_product
from tests.tenancy_rows import factory


@factory
def techfile_rows(org, user) -> dict:
    product = make_product(org, user, photos=("label.webp",))
    new = services.NewFile(sha256=None, mime=None, width=None, height=None, generator="test")
    f = services.add_version(org_id=org.id, product_id=product.id, revision="1", file_type=FileType.BASE_VIEW,
                             view="front", category="", new=new, by_id=user.id, action="created")
    c = Collection(organisation_id=org.id, product_id=product.id, kind=CollectionKind.TECH_PACK,
                   status=CollectionStatus.FAILED, batch_id="rival", progress=0)
    db.session.add(c)
    db.session.commit()
    # The public share routes (/share/<token>…) need no login: the signed token is the key, so any
    # organisation's live link opens. The walk gives them a revoked link of the other
    # organisation, which must answer 404 like everything else it walks.
    link = shares.share_create(org_id=org.id, product_id=product.id, label="rival factory", days=1, by=user)
    shares.share_revoke(org_id=org.id, link_id=link.link.id, by=user)
    return {"product_id": product.id, "file_id": f.id, "collection_id": c.id, "link_id": link.link.id,
            "token": link.token}
