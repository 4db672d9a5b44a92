"""Filling slots: each slot's statement runs once per level for all the parents found there.

A placeholder is a JSON string ``"\\u0002<nonce><slot>:<parent id>"`` in the parent's JSON text;
it is replaced by the slot's JSON for that parent, as text: nothing is parsed.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from app.reads.statement import Slot

Run = Callable[[str, list[Any]], Awaitable[list[tuple[Any, ...]]]]


async def fill(text: str, slots: list[Slot], nonce: str, run: Run) -> str:
    """``text`` with every slot placeholder replaced by its statement's answer."""
    pattern = re.compile(r'"\\u0002' + re.escape(nonce) + r'(\d+):([0-9a-f]{32})"')
    while True:
        wanted: dict[int, set[str]] = defaultdict(set)
        for match in pattern.finditer(text):
            wanted[int(match[1])].add(match[2])
        if not wanted:
            return text
        answers: dict[tuple[int, str], str] = {}
        for index, parents in wanted.items():
            slot = slots[index]
            ids = json.dumps(sorted(parents))
            for parent, value in await run(slot.sql, [ids, *slot.statement.params[1:]]):
                answers[index, parent] = value if value is not None else "null"
        text = pattern.sub(_replacer(answers), text)


def _replacer(answers: dict[tuple[int, str], str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return answers.get((int(match[1]), match[2]), "null")

    return replace
