"""One customer across channels: merge the customer who wrote by SMS into the one who wrote by e-mail
(their conversations, orders and addresses move), and split them again exactly as they were.

A merge records what moved, so each moved order's origin is the merge's source customer. A merged
customer is hidden from the customer list, and a new message from one of their addresses lands with
the customer they were merged into. An order keeps its own copy of the name and contact details it
was made with (what it was shipped and invoiced to); only its customer changes.

Split gives back what moved wherever it now is along the chain of merges (the target may since have
been merged into a third customer), but nothing that was moved away from there by other means.
"""
from __future__ import annotations

from sqlalchemy import select, update

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.extensions import db
from app.inbox.models import Conversation, CustomerMerge, CustomerProfile
from app.inbox.services import CONVERSATION_EVENT, _customer, _profile
from app.orders.models import Order

MAX_CHAIN = 50  # merges of merges followed when giving back; far more than any shop makes


def customer_merge(*, org_id: int, target_id: int, source_id, by: User | None) -> CustomerMerge:
    """Move another customer's conversations and addresses to this one; the other is hidden until split."""
    try:
        source_id = int(source_id)
    except (TypeError, ValueError):
        raise InvalidInput("Choose the customer to merge into this one.", field="source_id") from None
    if source_id == target_id:
        raise InvalidInput("A customer cannot be merged into themselves.", field="source_id")
    target, source = _customer(org_id, target_id), _customer(org_id, source_id)
    target_profile, source_profile = _profile(target), _profile(source)
    if source_profile.merged_into_id or target_profile.merged_into_id:
        raise Conflict("One of these customers is already merged into another; split that first.")
    conversation_ids = list(db.session.scalars(select(Conversation.id).where(
        Conversation.organisation_id == org_id, Conversation.customer_id == source.id)))
    order_ids = list(db.session.scalars(select(Order.id).where(
        Order.organisation_id == org_id, Order.customer_id == source.id).order_by(Order.id)))
    phones = [p for p in source_profile.phones or [] if p not in (target_profile.phones or [])]
    emails = [e for e in source_profile.emails or [] if e not in (target_profile.emails or [])]
    if conversation_ids:
        db.session.execute(update(Conversation).where(Conversation.id.in_(conversation_ids))
                           .values(customer_id=target.id).execution_options(synchronize_session=False))
    if order_ids:
        db.session.execute(update(Order).where(Order.id.in_(order_ids), Order.customer_id == source.id)
                           .values(customer_id=target.id).execution_options(synchronize_session=False))
    target_profile.phones = [*(target_profile.phones or []), *phones]
    target_profile.emails = [*(target_profile.emails or []), *emails]
    source_profile.merged_into_id = target.id
    merge = CustomerMerge(organisation_id=org_id, target_id=target.id, source_id=source.id, merged_by_id=user_id_of(by),
                          moved={"conversations": conversation_ids, "orders": order_ids, "phones": phones,
                                 "emails": emails})
    db.session.add(merge)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="customer.merge", object_type="customer",
                 object_id=target.id, after={"merged": source.id, "conversations": conversation_ids,
                                                "orders": order_ids})
    publish_after_commit(org_id, CONVERSATION_EVENT, {"customer_id": target.id})
    db.session.commit()
    return merge


def customer_split(*, org_id: int, merge_id: int, by: User | None) -> CustomerMerge:
    """Undo a merge: the other customer gets back their conversations, orders and addresses."""
    merge = db.session.get(CustomerMerge, merge_id)
    if merge is None or merge.organisation_id != org_id:
        raise NotFound("No such merge in your organisation.")
    if merge.split_at is not None:
        raise Conflict("These customers were already split.")
    moved, holders = merge.moved or {}, _holders(merge.target_id)
    for model, ids in ((Conversation, moved.get("conversations")), (Order, moved.get("orders"))):
        if ids:
            db.session.execute(update(model).where(
                model.id.in_(ids), model.organisation_id == org_id, model.customer_id.in_(holders))
                .values(customer_id=merge.source_id).execution_options(synchronize_session=False))
    target_profile = db.session.scalar(select(CustomerProfile).where(CustomerProfile.customer_id == merge.target_id))
    target_profile.phones = [p for p in target_profile.phones or [] if p not in moved.get("phones", [])]
    target_profile.emails = [e for e in target_profile.emails or [] if e not in moved.get("emails", [])]
    source_profile = db.session.scalar(select(CustomerProfile).where(CustomerProfile.customer_id == merge.source_id))
    source_profile.merged_into_id = None
    merge.split_at, merge.split_by_id = utcnow(), user_id_of(by)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="customer.split", object_type="customer",
                 object_id=merge.target_id, after={"split": merge.source_id, "orders": moved.get("orders", [])})
    publish_after_commit(org_id, CONVERSATION_EVENT, {"customer_id": merge.target_id})
    db.session.commit()
    return merge


def _holders(target_id: int) -> list[int]:
    """The merge's target and every customer it was merged into since, in turn."""
    chain = [target_id]
    while len(chain) < MAX_CHAIN:
        following = merged_into(chain[-1])
        if following is None or following in chain:
            break
        chain.append(following)
    return chain


def merged_into(customer_id: int) -> int | None:
    """The customer this one was merged into, if any."""
    return db.session.scalar(select(CustomerProfile.merged_into_id).where(CustomerProfile.customer_id == customer_id))
