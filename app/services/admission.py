"""Admission to new work: a check (a rate limit) that launching services call only when they
are about to create something, so an idempotent replay never counts against a limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Admit = Callable[[], Awaitable[None]]


async def admit_all() -> None:
    """No limit."""
