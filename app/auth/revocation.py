"""Noticing, at flush, the changes that narrow what a user's credentials may do.

Whatever layer makes them, through the ORM: a membership added, re-roled or removed, an API
key revoked or narrowed, a refresh token revoked, an account deactivated or deleted. When the
session commits, those users' cached credentials are forgotten here at once, and announced to
the other processes before the reply goes out (``app.after_commit``); a rollback drops them.
Bulk UPDATEs are invisible to flush events: code that revokes that way calls
:func:`credentials_changed` itself.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.after_commit import after_commit
from app.auth.cache import CredentialCache
from app.models import ApiKey, Membership, RefreshToken, User

CACHE_KEY = "credential_cache"
CHANGED_KEY = "credentials_changed"
_WATCHED: dict[type[Any], tuple[str, ...]] = {
    Membership: ("role", "user_id", "workspace_id"),
    ApiKey: ("revoked_at", "scope", "workspace_id", "expires_at", "user_id"),
    RefreshToken: ("revoked_at", "expires_at", "family_id", "user_id"),
    User: ("is_active",),
}


def credentials_changed(session: Any, user_ids: Iterable[uuid.UUID]) -> None:
    """Forget these users' cached credentials once ``session`` (sync or async) commits."""
    info = session.info
    cache: CredentialCache | None = info.get(CACHE_KEY)
    users = set(user_ids)
    if cache is None or not users:
        return
    pending: set[uuid.UUID] | None = info.get(CHANGED_KEY)
    if pending is None:
        pending = info[CHANGED_KEY] = set()
        after_commit(session, lambda: cache.revoke(pending))
    pending.update(users)


@event.listens_for(Session, "after_flush")
def _noticed(session: Session, _context: Any) -> None:
    if CACHE_KEY not in session.info:
        return
    new, deleted = session.new, session.deleted
    users = set()
    for instance in itertools.chain(new, session.dirty, deleted):
        watched = _WATCHED.get(type(instance))
        if watched is None:
            continue
        if instance in new and type(instance) is not Membership:
            continue  # a new key, token or account narrows nothing
        if instance in new or instance in deleted or _changed(instance, watched):
            users.add(instance.id if type(instance) is User else instance.user_id)
    credentials_changed(session, users)


def _changed(instance: Any, attributes: tuple[str, ...]) -> bool:
    state = sa.inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in attributes)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """Here at once (the announcement to other processes follows as an after-commit action)."""
    pending: set[uuid.UUID] | None = session.info.pop(CHANGED_KEY, None)
    cache: CredentialCache | None = session.info.get(CACHE_KEY)
    if pending and cache is not None:
        cache.forget(pending)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)
