"""Staff accounts and roles."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SOCIAL_SERVICES = "social_services"
    # Keeps the knowledge bank (docs/knowledge.md) and reads the statistics; never a conversation.
    COORDINATOR = "coordinator"


#: The roles who chat and take appointments; the permission table gives them their rows.
CHAT_ROLES = frozenset({Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool = True
    route: str | None = None
    languages: list[str] = field(default_factory=list)


def check_username(username: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,63}", username):
        raise ValueError("usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    return username


MIN_PASSWORD_LENGTH = 12


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


def check_route(role: Role, route: str | None, known_routes: Collection[str]) -> None:
    """Social services staff are bound to one route (district) of the routes file; nobody else has
    one."""
    if role is not Role.SOCIAL_SERVICES:
        if route:
            raise ValueError("a route is only for social_services accounts")
        return
    if not route:
        raise ValueError("social_services accounts need a route")
    if route not in known_routes:
        raise ValueError(f"no such route in the routes file; known: {', '.join(sorted(known_routes))}")
