"""Relay connections: cursors both ways, page limits, totalCount, filters and ordering."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graphql import Account, create_campaign, create_client

CLIENTS = """
query($w: ID!, $first: Int, $after: String, $last: Int, $before: String,
      $filter: ClientFilterInput, $order: Order) {
  node(id: $w) { ... on Workspace {
    clients(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $order) {
      totalCount
      edges { cursor node { name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  } }
}
"""
NAMES = [f"Client {i:02d}" for i in range(7)]


@pytest.fixture
async def workspace(owner: Account) -> Account:
    for name in NAMES:
        await create_client(owner.gql, owner.workspace_id, name)
    return owner


async def _page(account: Account, **variables: Any) -> dict[str, Any]:
    result = await account.gql(CLIENTS, {"w": account.workspace_id, **variables})
    return dict(result.ok()["node"]["clients"])


def _names(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in page["edges"]]


class TestForward:
    async def test_default_order_is_newest_first(self, workspace: Account) -> None:
        page = await _page(workspace)
        assert _names(page) == list(reversed(NAMES))
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasNextPage"] is False

    async def test_walking_with_first_and_after_visits_everything_once(
        self, workspace: Account
    ) -> None:
        seen: list[str] = []
        after = None
        while True:
            page = await _page(workspace, first=3, after=after)
            seen += _names(page)
            assert page["totalCount"] == 7
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == list(reversed(NAMES))

    async def test_rows_added_meanwhile_do_not_shift_the_next_page(
        self, workspace: Account
    ) -> None:
        first = await _page(workspace, first=3)
        await create_client(workspace.gql, workspace.workspace_id, "Newcomer")
        second = await _page(workspace, first=3, after=first["pageInfo"]["endCursor"])
        assert _names(second) == ["Client 03", "Client 02", "Client 01"]
        assert second["pageInfo"]["hasPreviousPage"] is True


class TestBackward:
    async def test_last_gives_the_end_in_display_order(self, workspace: Account) -> None:
        page = await _page(workspace, last=2)
        assert _names(page) == ["Client 01", "Client 00"]
        assert page["pageInfo"]["hasPreviousPage"] is True

    async def test_before_walks_back(self, workspace: Account) -> None:
        end = await _page(workspace, last=2)
        previous = await _page(workspace, last=2, before=end["pageInfo"]["startCursor"])
        assert _names(previous) == ["Client 03", "Client 02"]
        assert previous["pageInfo"]["hasNextPage"] is True


class TestOrderAndFilter:
    async def test_order_by_name_ascending(self, workspace: Account) -> None:
        page = await _page(workspace, order={"field": "NAME", "direction": "ASC"}, first=3)
        assert _names(page) == NAMES[:3]
        nxt = await _page(
            workspace,
            order={"field": "NAME", "direction": "ASC"},
            first=3,
            after=page["pageInfo"]["endCursor"],
        )
        assert _names(nxt) == NAMES[3:6]

    async def test_search_filters_and_counts(self, workspace: Account) -> None:
        page = await _page(workspace, filter={"search": "client 0"})
        assert page["totalCount"] == 7
        page = await _page(workspace, filter={"search": "05"})
        assert _names(page) == ["Client 05"]
        assert page["totalCount"] == 1

    async def test_search_treats_wildcards_literally(self, workspace: Account) -> None:
        assert (await _page(workspace, filter={"search": "%"}))["totalCount"] == 0

    async def test_campaign_status_filter(self, owner: Account) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        draft = await create_campaign(owner.gql, client_id, "Draft one")
        active = await create_campaign(owner.gql, client_id, "Active one")
        await owner.gql(
            "mutation($id: ID!) { updateCampaign(input: {id: $id, status: ACTIVE}) { campaign { id } } }",
            {"id": active},
        )
        result = await owner.gql(
            "query($c: ID!) { node(id: $c) { ... on Client {"
            " campaigns(filter: {status: [ACTIVE]}) { totalCount nodes { id } } } } }",
            {"c": client_id},
        )
        campaigns = result.ok()["node"]["campaigns"]
        assert campaigns == {"totalCount": 1, "nodes": [{"id": active}]}
        assert draft != active


class TestBadArguments:
    @pytest.mark.parametrize(
        ("variables", "field"),
        [
            ({"first": 101}, "first"),
            ({"last": 101}, "last"),
            ({"first": -1}, "first"),
            ({"first": 1, "last": 1}, "last"),
            ({"after": "not-a-cursor"}, "after"),
            ({"before": "bm9wZQ"}, "before"),
        ],
    )
    async def test_are_bad_user_input_naming_the_argument(
        self, workspace: Account, variables: dict[str, Any], field: str
    ) -> None:
        result = await workspace.gql(CLIENTS, {"w": workspace.workspace_id, **variables})
        assert result.code == "BAD_USER_INPUT"
        assert field in result.errors[0]["extensions"]["fields"]

    async def test_a_cursor_from_another_ordering_is_refused(self, workspace: Account) -> None:
        page = await _page(workspace, first=1)
        result = await workspace.gql(
            CLIENTS,
            {
                "w": workspace.workspace_id,
                "after": page["pageInfo"]["endCursor"],
                "order": {"field": "NAME", "direction": "ASC"},
            },
        )
        assert result.code == "BAD_USER_INPUT"

    async def test_exactly_100_is_allowed(self, workspace: Account) -> None:
        assert len((await _page(workspace, first=100))["edges"]) == 7


ORDERED_BY_NAME = """
query($w: ID!) { node(id: $w) { ... on Workspace {
  %s(first: 2, orderBy: {field: NAME, direction: ASC}) { totalCount }
} } }
"""


class TestOrderingByAMissingField:
    @pytest.mark.parametrize("listing", ["jobs", "generations"])
    async def test_is_bad_user_input_not_an_internal_error(
        self, workspace: Account, listing: str
    ) -> None:
        result = await workspace.gql(ORDERED_BY_NAME % listing, {"w": workspace.workspace_id})
        assert result.code == "BAD_USER_INPUT"
        assert "orderBy" in result.errors[0]["extensions"]["fields"]
