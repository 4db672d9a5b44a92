"""Exact comparison of two GraphQL responses: values, JSON types and the order of keys.

GraphQL responses are ordered (fields come in the order the operation asks for them), so two
objects with the same members in another order differ. A response is parsed with its pairs
kept in order, and a key sent twice is an error of its own.

The one list compared in a canonical order is ``errors``: graphql-core appends errors as the
fields that raise them finish, which with concurrent loaders depends on the database's timing,
and the specification gives that list no order. Each error itself is compared exactly.
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise DuplicateKey(f"a key appears twice in {keys}")
    return dict(pairs)


def parse(body: bytes) -> Any:
    """The JSON of a response body, its objects' keys in the order they were sent."""
    return json.loads(body, object_pairs_hook=_pairs)


def canonical(body: Any) -> Any:
    """``body`` with its errors sorted by path, message and location (nothing else moved)."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return body
    errors = sorted(body["errors"], key=_error_key)
    return {key: errors if key == "errors" else value for key, value in body.items()}


def _error_key(error: Any) -> str:
    if not isinstance(error, dict):
        return json.dumps(error)
    return json.dumps([error.get("path"), error.get("message"), error.get("locations")])


def differences(expected: Any, actual: Any, path: str = "$", limit: int = 5) -> list[str]:
    """Where ``actual`` departs from ``expected`` (at most ``limit`` places), as JSON paths."""
    found: list[str] = []
    _walk(expected, actual, path, found, limit)
    return found


def _walk(expected: Any, actual: Any, path: str, found: list[str], limit: int) -> None:
    if len(found) >= limit:
        return
    if type(expected) is not type(actual):
        found.append(f"{path}: {_show(expected)} != {_show(actual)} (JSON types differ)")
    elif isinstance(expected, dict):
        if list(expected) != list(actual):
            if set(expected) == set(actual):
                found.append(f"{path}: keys in another order: {list(expected)} != {list(actual)}")
            else:
                found.append(f"{path}: keys {list(expected)} != {list(actual)}")
            return
        for key in expected:
            _walk(expected[key], actual[key], f"{path}.{key}", found, limit)
    elif isinstance(expected, list):
        if len(expected) != len(actual):
            found.append(f"{path}: {len(expected)} items != {len(actual)} items")
            return
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            _walk(left, right, f"{path}[{index}]", found, limit)
    elif expected != actual:
        found.append(f"{path}: {_show(expected)} != {_show(actual)}")


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."


def same_responses(
    expected: tuple[int, bytes], actual: tuple[int, bytes], path: str = "$"
) -> list[str]:
    """Differences between two (status, body) answers: the status first, then the JSON."""
    if expected[0] != actual[0]:
        return [f"HTTP status {expected[0]} != {actual[0]}"]
    try:
        left, right = parse(expected[1]), parse(actual[1])
    except ValueError as error:
        return [f"unreadable response: {error}"]
    return differences(canonical(left), canonical(right), path)
