"""Helpers for generation tests: launch through GraphQL and wait for a final state."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from app.models.enums import GENERATION_FINAL
from tests.graphql import GraphQL

GENERATION = """
query($id: ID!) { generation(id: $id) {
  id status kind model provider simulated errorCode errorMessage predictionId input
  cost { amount currency } estimatedCost { amount }
  startImageGeneration { id status model simulated cost { amount } }
  outputAsset { id kind status size url
    ... on ImageAsset { width height }
    ... on VideoAsset { duration width height }
    ... on AudioAsset { duration } }
} }
"""
FINAL = {status.name for status in GENERATION_FINAL}


async def generate(gql: GraphQL, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    mutation = f"generate{kind.capitalize()}"
    result = await gql(
        f"mutation($i: Generate{kind.capitalize()}Input!) {{ {mutation}(input: $i) {{"
        " generation { id status model kind } } }",
        {"i": data},
    )
    return dict(result.ok()[mutation]["generation"])


async def wait_final(gql: GraphQL, generation_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = (await gql(GENERATION, {"id": generation_id})).ok()["generation"]
        if generation["status"] in FINAL:
            return dict(generation)
        await asyncio.sleep(0.1)
    raise AssertionError(f"generation {generation_id} did not finish: {generation}")
