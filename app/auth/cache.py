"""A short-lived, per-process cache of what credentials prove (sign-ins, API keys, roles).

A cached actor is served for at most ``ttl`` and never past its credential's expiry. Every
change that could narrow what a user may do (a sign-in ended, a key revoked, a membership
added, changed or removed, the account deactivated) forgets that user's entries at once in
this process (``app.auth.revocation``) and, through the :class:`InvalidationFeed`, in every
other one. Entries are only trusted while the feed is live, so an outage of the feed turns
the cache off instead of leaving it stale.

Fills race with invalidations: a fill takes a :class:`Stamp` before it reads the database
and is kept only if nothing was invalidated for that user (or everyone) since.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.auth.actor import Actor
from app.auth.credentials import CredentialKind, Credentials
from app.auth.invalidation import InvalidationFeed

MAX_ENTRIES = 20_000  # past this the cache starts again empty (a bound, not an eviction policy)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The invalidation state a fill started from."""

    user_id: uuid.UUID
    epoch: int
    generation: int


@dataclass(frozen=True, slots=True)
class _Entry:
    actor: Actor
    fresh_until: datetime


class CredentialCache:
    def __init__(self, ttl: timedelta, feed: InvalidationFeed) -> None:
        self.ttl = ttl
        self.feed = feed
        self._entries: dict[tuple[CredentialKind, str], _Entry] = {}
        self._keys_of: dict[uuid.UUID, set[tuple[CredentialKind, str]]] = {}
        self._generations: dict[uuid.UUID, int] = {}
        self._owners: dict[str, uuid.UUID] = {}  # an API key's user never changes
        self._epoch = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0) and self.feed.live

    async def start(self) -> None:
        await self.feed.start(self.forget, self.clear)

    async def stop(self) -> None:
        await self.feed.stop()

    def lookup(self, credentials: Credentials, now: datetime) -> Actor | None:
        """The cached actor, if still fresh, live and unexpired."""
        entry = self._entries.get((credentials.kind, credentials.secret))
        if entry is None or entry.fresh_until <= now or not self.feed.live:
            return None
        expires_at = entry.actor.expires_at
        if expires_at is not None and expires_at <= now:
            return None
        return entry.actor

    def owner(self, credentials: Credentials) -> uuid.UUID | None:
        """The user an API key belongs to, once a lookup has proved it."""
        return self._owners.get(credentials.secret)

    def remember_owner(self, credentials: Credentials, user_id: uuid.UUID) -> None:
        if len(self._owners) >= MAX_ENTRIES:
            self._owners.clear()
        self._owners[credentials.secret] = user_id

    def stamp(self, user_id: uuid.UUID) -> Stamp | None:
        """Taken before a fill reads the database; None while nothing may be cached."""
        if not self.enabled:
            return None
        return Stamp(user_id, self._epoch, self._generations.get(user_id, 0))

    def store(self, credentials: Credentials, actor: Actor, stamp: Stamp, now: datetime) -> None:
        """Keep ``actor`` unless the user (or everyone) was invalidated since ``stamp``."""
        if stamp.user_id != actor.user_id or not self._unchanged(stamp):
            return
        if len(self._entries) >= MAX_ENTRIES:
            self.clear()
            return
        key = (credentials.kind, credentials.secret)
        self._entries[key] = _Entry(actor, now + self.ttl)
        self._keys_of.setdefault(actor.user_id, set()).add(key)

    def _unchanged(self, stamp: Stamp) -> bool:
        return (
            self.enabled
            and stamp.epoch == self._epoch
            and stamp.generation == self._generations.get(stamp.user_id, 0)
        )

    def forget(self, user_ids: Iterable[uuid.UUID]) -> None:
        """Drop the users' entries and void the fills under way for them."""
        for user_id in user_ids:
            self._generations[user_id] = self._generations.get(user_id, 0) + 1
            for key in self._keys_of.pop(user_id, ()):
                self._entries.pop(key, None)
        if len(self._generations) >= MAX_ENTRIES:
            self.clear()

    def clear(self) -> None:
        """Forget everything (the feed may have missed an invalidation)."""
        self._epoch += 1
        self._entries.clear()
        self._keys_of.clear()
        self._generations.clear()

    async def revoke(self, user_ids: Iterable[uuid.UUID]) -> None:
        """After a commit that narrowed these users' rights: here, then everywhere."""
        users = frozenset(user_ids)
        if users:
            self.forget(users)
            await self.feed.publish(users)
