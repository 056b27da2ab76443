"""Navigation entries and dashboard cards, registered by each domain when its blueprint loads."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[Role, ...] = ()
    order: int = 100
    group: str = "main"  # "main" or "admin"


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    template: str
    load: Callable[[int], dict]  # organisation id -> template context
    events: tuple[str, ...] = ()  # SSE event names that make the card re-fetch itself
    roles: tuple[Role, ...] = ()
    order: int = 100
    extra: dict = field(default_factory=dict)


NAV: dict[str, NavItem] = {}
CARDS: dict[str, Card] = {}


def register_nav(label: str, endpoint: str, *, roles=(), order: int = 100, group: str = "main") -> None:
    NAV[endpoint] = NavItem(label, endpoint, tuple(Role(r) for r in roles), order, group)


def register_card(key: str, *, title: str, template: str, load: Callable[[int], dict], events=(),
                  roles=(), order: int = 100) -> None:
    CARDS[key] = Card(key, title, template, load, tuple(events), tuple(Role(r) for r in roles), order)


def _allowed(user, roles) -> bool:
    return not roles or user.has_role(*roles)


def nav_for(user, group: str = "main") -> list[NavItem]:
    return sorted((n for n in NAV.values() if n.group == group and _allowed(user, n.roles)), key=lambda n: n.order)


def cards_for(user) -> list[Card]:
    return sorted((c for c in CARDS.values() if _allowed(user, c.roles)), key=lambda c: c.order)


def current_nav(items: list[NavItem], endpoint: str | None, path: str, url_of: Callable[[str], str]) -> str | None:
    """The one menu entry to highlight: the page's own entry, else the entry whose address is the longest
    prefix of the page's, else the first entry of the page's blueprint (two entries may share one)."""
    if not endpoint:
        return None
    if any(n.endpoint == endpoint for n in items):
        return endpoint
    prefixes = [(len(url), n.endpoint) for n in items
                if (url := url_of(n.endpoint).rstrip("/")) and (path == url or path.startswith(url + "/"))]
    if prefixes:
        return max(prefixes)[1]
    blueprint = endpoint.split(".")[0]
    return next((n.endpoint for n in items if n.endpoint.split(".")[0] == blueprint), None)
