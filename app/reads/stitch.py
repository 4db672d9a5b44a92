"""Filling slots: each slot's statement runs once per level for all the parents found there."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from app.reads.statement import SLOT, Slot

Run = Callable[[str, list[Any]], Awaitable[list[tuple[Any, ...]]]]
Place = tuple[Any, Any]  # (container, key)


async def fill(value: Any, slots: list[Slot], nonce: str, run: Run) -> Any:
    """``value`` with every slot placeholder replaced by its statement's answer."""
    holder = [value]
    prefix = SLOT + nonce
    pending = _placeholders(holder, 0, prefix)
    while pending:
        found: list[tuple[Place, int, str]] = []
        for slot_index, places in _by_slot(pending).items():
            slot = slots[slot_index]
            ids = sorted({parent for _, parent in places})
            rows = await run(slot.sql, [json.dumps(ids), *slot.statement.params[1:]])
            answers = {row[0]: orjson.loads(row[1]) for row in rows}
            for (container, key), parent in places:
                container[key] = answers.get(parent)
                found.extend(_placeholders(container, key, prefix))
        pending = found
    return holder[0]


def _by_slot(pending: list[tuple[Place, int, str]]) -> dict[int, list[tuple[Place, str]]]:
    groups: dict[int, list[tuple[Place, str]]] = defaultdict(list)
    for place, slot, parent in pending:
        groups[slot].append((place, parent))
    return groups


def _placeholders(container: Any, key: Any, prefix: str) -> list[tuple[Place, int, str]]:
    """Every placeholder at or under ``container[key]`` (iteratively)."""
    found: list[tuple[Place, int, str]] = []
    stack: list[Place] = [(container, key)]
    while stack:
        holder, at = stack.pop()
        item = holder[at]
        if isinstance(item, str):
            if item.startswith(prefix):
                slot, _, parent = item[len(prefix) :].partition(":")
                found.append(((holder, at), int(slot), parent))
        elif isinstance(item, dict):
            stack.extend((item, k) for k in item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
    return found
