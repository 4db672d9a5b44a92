"""The dashboard query, its variables, and the checks every response must pass."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from app.ids import encode_global_id

CLIENT_PAGE = 20
CAMPAIGN_PAGE = 10
# Each campaign's newest assets, plain stored fields only: an asset's ``url`` is a signed link
# whose expiry moves with the clock, so it is left out (the two servers must answer the same).
ASSET_PAGE = 5

# Without the assets: the query measured before the Asset type existed (``--without-assets``).
DASHBOARD_WITHOUT_ASSETS = """
query Dashboard($id: ID!, $clients: Int!, $campaigns: Int!) {
  node(id: $id) {
    ... on Workspace {
      id
      clients(first: $clients) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          cursor
          node {
            id
            name
            description
            createdAt
            stats { campaignCount videoCount totalSpend { amount currency } }
            campaigns(first: $campaigns) {
              totalCount
              pageInfo { hasNextPage endCursor }
              edges {
                cursor
                node {
                  id
                  name
                  goal
                  status
                  createdAt
                  stats {
                    videoCount
                    totalSpend { amount currency }
                    averageCost { amount currency }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""

_ASSETS = """
                  assets(first: $assets) {
                    totalCount
                    pageInfo { hasNextPage endCursor }
                    edges {
                      cursor
                      node {
                        id
                        name
                        kind
                        status
                        uploadedAt
                        ... on ImageAsset { width height }
                      }
                    }
                  }"""
_CAMPAIGN_STATS_END = """
                    averageCost { amount currency }
                  }"""
DASHBOARD = DASHBOARD_WITHOUT_ASSETS.replace(
    "$campaigns: Int!)", "$campaigns: Int!, $assets: Int!)"
).replace(_CAMPAIGN_STATS_END, _CAMPAIGN_STATS_END + _ASSETS)

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken }
}
"""


# One client by id, a few stored fields (the peer bench's small read).
CLIENT_BY_ID = """
query Client($id: ID!) {
  node(id: $id) { ... on Client { id name description createdAt } }
}
"""

TYPENAME = "{ __typename }"


def dashboard_body(workspace_id: uuid.UUID, *, assets: bool = True) -> bytes:
    """The POST body both servers receive; the baseline lists assets when ``assets`` is sent."""
    return sized_dashboard_body(
        workspace_id, CLIENT_PAGE, CAMPAIGN_PAGE, ASSET_PAGE if assets else None
    )


def sized_dashboard_body(
    workspace_id: uuid.UUID, clients: int, campaigns: int, assets: int | None
) -> bytes:
    """The dashboard with these page sizes (``assets`` None: the query without assets)."""
    variables: dict[str, Any] = {
        "id": encode_global_id("Workspace", workspace_id),
        "clients": clients,
        "campaigns": campaigns,
    }
    if assets is not None:
        variables["assets"] = assets
    query = DASHBOARD if assets is not None else DASHBOARD_WITHOUT_ASSETS
    return orjson.dumps({"query": query, "variables": variables})


def client_body(client_id: uuid.UUID) -> bytes:
    variables = {"id": encode_global_id("Client", client_id)}
    return orjson.dumps({"query": CLIENT_BY_ID, "variables": variables})


def typename_body() -> bytes:
    return orjson.dumps({"query": TYPENAME})


def check_dashboard(payload: Any, *, source: str, assets: bool = True) -> None:
    """Fail loudly unless the response is a whole dashboard without errors."""
    if not isinstance(payload, dict) or payload.get("errors"):
        raise AssertionError(f"{source}: errors in response: {str(payload)[:2000]}")
    workspace = (payload.get("data") or {}).get("node")
    if not workspace:
        raise AssertionError(f"{source}: no workspace in response: {str(payload)[:2000]}")
    clients = workspace["clients"]["edges"]
    if len(clients) != CLIENT_PAGE:
        raise AssertionError(f"{source}: {len(clients)} clients, expected {CLIENT_PAGE}")
    for edge in clients:
        campaigns = edge["node"]["campaigns"]["edges"]
        _check_count(source, edge["node"]["name"], "campaigns", len(campaigns), CAMPAIGN_PAGE)
        for campaign in campaigns if assets else []:
            found = campaign["node"]["assets"]["edges"]
            _check_count(source, campaign["node"]["name"], "assets", len(found), ASSET_PAGE)


def _check_count(source: str, owner: str, what: str, found: int, expected: int) -> None:
    if found != expected:
        raise AssertionError(f"{source}: {owner} has {found} {what}, expected {expected}")


def normalise(payload: Any) -> Any:
    """What two servers must agree on: the data, key order aside (dicts compare unordered)."""
    return {"data": payload.get("data")} if isinstance(payload, dict) else payload


def first_difference(left: Any, right: Any, path: str = "$") -> str | None:
    """Where two JSON values first differ, for a readable failure."""
    if type(left) is not type(right) or not isinstance(left, dict | list):
        return None if left == right else f"{path}: {left!r} != {right!r}"
    if isinstance(left, dict):
        missing = sorted(set(left) ^ set(right))
        if missing:
            return f"{path}.{missing[0]}: present on one side only"
        pairs = [(f"{path}.{key}", left[key], right[key]) for key in sorted(left)]
    elif len(left) != len(right):
        return f"{path}: {len(left)} items != {len(right)} items"
    else:
        pairs = [(f"{path}[{i}]", a, b) for i, (a, b) in enumerate(zip(left, right, strict=True))]
    for where, a, b in pairs:
        found = first_difference(a, b, where)
        if found:
            return found
    return None


def count_objects(payload: Any) -> tuple[int, int]:
    """(objects, fields) in a JSON value: how much a server had to build."""
    if isinstance(payload, dict):
        objects, fields = 1, len(payload)
        for value in payload.values():
            sub_objects, sub_fields = count_objects(value)
            objects, fields = objects + sub_objects, fields + sub_fields
        return objects, fields
    if isinstance(payload, list):
        totals = [count_objects(item) for item in payload]
        return sum(t[0] for t in totals), sum(t[1] for t in totals)
    return 0, 0


def level_counts(payload: Any, depth: int = 0) -> list[int]:
    """Objects per nesting level of a JSON value (lists add no level): its shape, in numbers."""
    counts: list[int] = []
    _count_levels(payload, depth, counts)
    return counts


def _count_levels(value: Any, depth: int, counts: list[int]) -> None:
    if isinstance(value, list):
        for item in value:
            _count_levels(item, depth, counts)
    elif isinstance(value, dict):
        if len(counts) <= depth:
            counts.append(0)
        counts[depth] += 1
        for item in value.values():
            _count_levels(item, depth + 1, counts)
