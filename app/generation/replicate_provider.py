"""Replicate through its real client: create, get and cancel predictions (never ``run``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from replicate.client import Client as ReplicateClient
from replicate.exceptions import ReplicateError
from replicate.prediction import _json_to_prediction as _prediction

from app.generation.provider import (
    PredictionRequest,
    PredictionState,
    ProviderRejected,
    ProviderUnavailable,
)

TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_FIND_PAGES = 100  # a bound on one search; it stops sooner, at predictions before ours
CLOCK_SKEW = timedelta(minutes=5)


class ReplicateProvider:
    name = "replicate"
    calls_back = True
    reads_storage = False

    def __init__(self, api_token: str, base_url: str | None = None) -> None:
        self._client = ReplicateClient(api_token=api_token, base_url=base_url)
        self._downloads = httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True)

    async def submit(self, request: PredictionRequest) -> PredictionState:
        kwargs: dict[str, Any] = {"model": request.model, "input": request.input}
        if request.webhook_url:
            kwargs["webhook"] = request.webhook_url
            kwargs["webhook_events_filter"] = ["completed"]
        prediction = await _call(self._client.models.predictions.async_create(**kwargs))
        return _state(prediction)

    async def get(self, prediction_id: str) -> PredictionState:
        return _state(await _call(self._client.predictions.async_get(prediction_id)))

    async def cancel(self, prediction_id: str) -> None:
        await _call(self._client.predictions.async_cancel(prediction_id))

    async def find(self, marker: str, since: datetime) -> PredictionState | None:
        """Our prediction among those created since ``since`` (newest first): its webhook URL
        carries ``generation=marker``. The client's model drops ``webhook``: pages are read raw.
        """
        needle = f"generation={marker}"
        oldest = since - CLOCK_SKEW
        page = "/v1/predictions"
        for _ in range(MAX_FIND_PAGES):
            response = await _call(self._client._async_request("GET", page))
            body = response.json()
            results = body.get("results") or []
            for item in results:
                if needle in str(item.get("webhook") or ""):
                    return _state(_prediction(self._client, item))
            page = body.get("next") or ""
            if not page or not results or _created(results[-1]) < oldest:
                return None
        return None

    async def download(self, url: str) -> AsyncIterator[bytes]:
        try:
            async with self._downloads.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ProviderUnavailable(
                        f"Downloading an output failed ({response.status_code})."
                    )
                async for chunk in response.aiter_bytes(256 * 1024):
                    yield chunk
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"Downloading an output failed ({type(exc).__name__})."
            ) from None

    async def aclose(self) -> None:
        await self._downloads.aclose()
        # replicate.Client has no close(); its lazily built httpx client is a property.
        await self._client._async_client.aclose()


async def _call(awaitable: Any) -> Any:
    try:
        return await awaitable
    except ReplicateError as exc:
        status = exc.status or 0
        detail = exc.detail or exc.title or "error"
        if status in TRANSIENT_STATUSES:
            raise ProviderUnavailable(f"Replicate is unavailable ({status}): {detail}") from None
        raise ProviderRejected(f"Replicate refused the request ({status}): {detail}") from None
    except (httpx.HTTPError, OSError) as exc:
        raise ProviderUnavailable(
            f"Replicate could not be reached ({type(exc).__name__})."
        ) from None


def _state(prediction: Any) -> PredictionState:
    output = prediction.output
    items = output if isinstance(output, list) else ([output] if output else [])
    metrics = prediction.metrics or {}
    progress = prediction.progress
    return PredictionState(
        id=prediction.id,
        status=prediction.status,
        outputs=[str(item) for item in items if isinstance(item, str) or hasattr(item, "url")],
        predict_seconds=metrics.get("predict_time"),
        error=str(prediction.error) if prediction.error else None,
        progress=progress.percentage if progress is not None else None,
    )


def _created(item: dict[str, Any]) -> datetime:
    """When a listed prediction was created (the epoch when it does not say, to stop there)."""
    try:
        moment = datetime.fromisoformat(str(item.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
