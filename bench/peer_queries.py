"""PostGraphile's side of the peer bench: its queries for each case, and their variables.

PostGraphile names things its own way (``clientsByWorkspaceId``, ``createdAt`` for an asset's
upload time, ``rowId`` for the table's id); aliases give its answers the keys adstudio's have,
so the two responses have the same shape and their fields can be counted alike.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson

NEWEST_FIRST = "orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]"

DASHBOARD = f"""
query Dashboard($id: ID!, $clients: Int!, $campaigns: Int!, $assets: Int!) {{
  node(id: $id) {{
    ... on Workspace {{
      id
      clients: clientsByWorkspaceId(first: $clients, {NEWEST_FIRST}) {{
        totalCount
        pageInfo {{ hasNextPage endCursor }}
        edges {{
          cursor
          node {{
            id
            name
            description
            createdAt
            stats {{ campaignCount videoCount totalSpend {{ amount currency }} }}
            campaigns: campaignsByClientId(first: $campaigns, {NEWEST_FIRST}) {{
              totalCount
              pageInfo {{ hasNextPage endCursor }}
              edges {{
                cursor
                node {{
                  id
                  name
                  goal
                  status
                  createdAt
                  stats {{
                    videoCount
                    totalSpend {{ amount currency }}
                    averageCost {{ amount currency }}
                  }}
                  assets: assetsByCampaignId(
                    first: $assets, {NEWEST_FIRST}, condition: {{ status: "ready" }}
                  ) {{
                    totalCount
                    pageInfo {{ hasNextPage endCursor }}
                    edges {{
                      cursor
                      node {{ id name kind status uploadedAt: createdAt width height }}
                    }}
                  }}
                }}
              }}
            }}
          }}
        }}
      }}
    }}
  }}
}}
"""

CLIENT_BY_ID = """
query Client($id: ID!) {
  node(id: $id) { ... on Client { id name description createdAt } }
}
"""

TYPENAME = "{ __typename }"


def node_id(table: str, row_id: uuid.UUID) -> str:
    """PostGraphile 5's global id of a row: base64 of ``["<TypeName>", "<primary key>"]``."""
    return base64.b64encode(orjson.dumps([table, str(row_id)])).decode()


def dashboard_body(workspace_id: uuid.UUID, clients: int, campaigns: int, assets: int) -> bytes:
    variables: dict[str, Any] = {
        "id": node_id("Workspace", workspace_id),
        "clients": clients,
        "campaigns": campaigns,
        "assets": assets,
    }
    return orjson.dumps({"query": DASHBOARD, "variables": variables})


def client_body(client_id: uuid.UUID) -> bytes:
    return orjson.dumps({"query": CLIENT_BY_ID, "variables": {"id": node_id("Client", client_id)}})


def typename_body() -> bytes:
    return orjson.dumps({"query": TYPENAME})
