"""The Provider port: submit a prediction, look at it, cancel it, download its outputs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from app.errors import ProviderError

TERMINAL = frozenset({"succeeded", "failed", "canceled"})


@dataclass(frozen=True, slots=True)
class PredictionRequest:
    model: str
    input: dict[str, Any]
    kind: str
    webhook_url: str | None = None
    seed_key: str = ""  # a stable key (the generation id) for deterministic providers


@dataclass(frozen=True, slots=True)
class PredictionState:
    id: str
    status: str  # starting | processing | succeeded | failed | canceled
    outputs: list[str] = field(default_factory=list)
    predict_seconds: float | None = None
    error: str | None = None
    progress: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class ProviderUnavailable(ProviderError):
    """A transient failure (throttled, 5xx, network): worth retrying."""


class ProviderRejected(ProviderError):
    """The provider refused the request (bad input, unknown model): retrying will not help."""


class Provider(Protocol):
    name: str  # the catalog's key for its models; the engine never branches on it
    calls_back: bool  # it delivers results to a webhook URL sent with each request
    reads_storage: bool  # it reads inputs from our storage by key (else from signed URLs)

    async def submit(self, request: PredictionRequest) -> PredictionState: ...

    async def get(self, prediction_id: str) -> PredictionState: ...

    async def cancel(self, prediction_id: str) -> None: ...

    async def find(self, marker: str, since: datetime) -> PredictionState | None:
        """A prediction created for ``marker`` (our generation id) after ``since``, if any.

        Asked before creating again after an unknown outcome (a lost answer, a crash during
        the call), so that a prediction the provider did create is adopted, not paid twice.
        """
        ...

    def download(self, url: str) -> AsyncIterator[bytes]:
        """The bytes of one output, in chunks."""
        ...
