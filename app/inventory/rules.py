"""The organisation's editable category rules (seeded from the defaults on first use)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.database import write_intent
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.models import User, user_id_of
from app.core.tenancy import get_scoped
from app.extensions import db
from app.inventory.category_rules import CategoryRule as CompiledRule
from app.inventory.category_rules import default_rule_dicts, rules_from_dicts
from app.inventory.models import CategoryRule


def rules_ensure(*, org_id: int) -> list[CategoryRule]:
    """The organisation's rules, copying the default set in (and committing) when it has none yet."""
    rows = _rows(org_id)
    if rows:
        return rows
    # A page view gets here inside a read transaction; on SQLite, upgrading it to a write could
    # fail under a concurrent writer, so the seeding runs in its own write transaction.
    db.session.commit()
    with write_intent():
        if not _rows(org_id):
            for rule in default_rule_dicts():
                db.session.add(CategoryRule(organisation_id=org_id, **rule))
            audit.record(org_id=org_id, actor_id=None, action="category_rules.seed", object_type="category_rule",
                         after={"rules": len(default_rule_dicts())})
        try:
            db.session.commit()
        except IntegrityError:  # another request seeded them a moment ago
            db.session.rollback()
    return _rows(org_id)


def _rows(org_id: int) -> list[CategoryRule]:
    return list(db.session.scalars(select(CategoryRule).where(CategoryRule.organisation_id == org_id)
                                   .order_by(CategoryRule.priority.desc(), CategoryRule.id)))


def compiled_rules(org_id: int) -> list[CompiledRule]:
    """The rules ready for assign_category()."""
    return rules_from_dicts([r.to_dict() for r in rules_ensure(org_id=org_id)])


def rule_save(*, org_id: int, rule_id: int | None, path: str, keywords: str | list[str], priority,
              by: User | None) -> CategoryRule:
    """Create or edit one rule (keywords as a list or comma-separated text). Commits."""
    try:
        clean = rules_from_dicts([{"path": path, "keywords": keywords, "priority": priority}])[0]
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc).removeprefix("rule 1: ").removeprefix("rule 1 ")) from None
    if rule_id is None:
        rule = CategoryRule(organisation_id=org_id)
        db.session.add(rule)
        before = None
    else:
        rule = get_scoped(CategoryRule, rule_id, org_id)
        if rule is None:
            raise NotFound("That rule does not exist.")
        before = rule.to_dict()
    rule.path, rule.keywords, rule.priority = clean.path, list(clean.keywords), clean.priority
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"There is already a rule for {clean.path}; edit that one.", field="path") from None
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="category_rules.save", object_type="category_rule",
                 object_id=rule.id, before=before, after=rule.to_dict())
    db.session.commit()
    return rule


def rule_delete(*, org_id: int, rule_id: int, by: User | None) -> None:
    """Delete a rule; the last one stays (with none, the defaults would come back). Commits."""
    rule = get_scoped(CategoryRule, rule_id, org_id)
    if rule is None:
        raise NotFound("That rule does not exist.")
    remaining = db.session.scalar(select(func.count()).select_from(CategoryRule)
                                  .where(CategoryRule.organisation_id == org_id))
    if remaining <= 1:
        raise Conflict("Keep at least one rule: edit this one instead of deleting it.")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="category_rules.delete", object_type="category_rule",
                 object_id=rule.id, before=rule.to_dict())
    db.session.delete(rule)
    db.session.commit()
