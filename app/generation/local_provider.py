"""An offline provider that makes real media, deterministically, after a configurable delay.

A prediction's request is written beside its output in the spool folder, so a prediction
outlives a restart exactly like a hosted one: the engine re-attaches by id. Its output is
rendered once, however many polls ask (and time out) meanwhile, and kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from app.generation import local_media
from app.generation.provider import PredictionRequest, PredictionState, ProviderRejected
from app.storage.base import Storage

STORAGE_SCHEME = "storage://"
LOCAL_SCHEME = "local://"
SUFFIXES = {"image": "png", "video": "mp4"}  # anything else is audio


class LocalProvider:
    name = "local"
    calls_back = False
    reads_storage = True  # it runs beside us, on the same storage

    def __init__(
        self, storage: Storage, *, latency: float = 0.5, failure_rate: float = 0.0
    ) -> None:
        self._storage = storage
        self._dir = storage.spool_dir() / "local-provider"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._latency = latency
        self._failure_rate = failure_rate
        self._started: dict[str, float] = {}
        self._renders: dict[str, asyncio.Task[str]] = {}

    async def submit(self, request: PredictionRequest) -> PredictionState:
        body = json.dumps(
            {
                "model": request.model,
                "input": request.input,
                "kind": request.kind,
                "seed": request.seed_key,
            },
            sort_keys=True,
            default=str,
        )
        prediction_id = "local-" + hashlib.sha256(body.encode()).hexdigest()[:24]
        await asyncio.to_thread(self._path(prediction_id, "json").write_text, body)
        self._started.setdefault(prediction_id, time.monotonic())
        return PredictionState(prediction_id, "starting")

    async def get(self, prediction_id: str) -> PredictionState:
        request = await self._request(prediction_id)
        if self._path(prediction_id, "canceled").exists():
            return PredictionState(prediction_id, "canceled")
        elapsed = time.monotonic() - self._started.setdefault(prediction_id, 0.0)
        if elapsed < self._latency:
            return PredictionState(prediction_id, "processing", progress=elapsed / self._latency)
        if self._fails(prediction_id):
            return PredictionState(
                prediction_id, "failed", error="The local model failed (simulated)."
            )
        # A poll that gives up waiting leaves the render running, for the next poll to await.
        name = await asyncio.shield(self._rendering(prediction_id, request))
        return PredictionState(
            prediction_id, "succeeded", [LOCAL_SCHEME + name], predict_seconds=self._latency
        )

    async def find(self, marker: str, since: datetime) -> PredictionState | None:
        # Local prediction ids derive from the request (its seed key is the generation id),
        # so submitting again returns the same prediction: there is nothing to look up.
        return None

    async def cancel(self, prediction_id: str) -> None:
        await asyncio.to_thread(self._path(prediction_id, "canceled").touch)

    async def download(self, url: str) -> AsyncIterator[bytes]:
        path = self._dir / url.removeprefix(LOCAL_SCHEME)
        data = await asyncio.to_thread(path.read_bytes)
        for start in range(0, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]

    async def aclose(self) -> None:
        renders = list(self._renders.values())
        for render in renders:
            render.cancel()
        await asyncio.gather(*renders, return_exceptions=True)

    def _rendering(self, prediction_id: str, request: dict[str, Any]) -> asyncio.Task[str]:
        """The one render of this prediction's output (started by the first poll to ask)."""
        render = self._renders.get(prediction_id)
        if render is None:
            render = asyncio.ensure_future(self._render(prediction_id, request))
            self._renders[prediction_id] = render
            render.add_done_callback(lambda _: self._renders.pop(prediction_id, None))
        return render

    def _path(self, prediction_id: str, suffix: str) -> Path:
        return self._dir / f"{prediction_id}.{suffix}"

    async def _request(self, prediction_id: str) -> dict[str, Any]:
        path = self._path(prediction_id, "json")
        if not path.exists():
            raise ProviderRejected(f"Unknown local prediction {prediction_id}.")
        return dict(json.loads(await asyncio.to_thread(path.read_text)))

    def _fails(self, prediction_id: str) -> bool:
        draw = int(hashlib.sha256(prediction_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return draw < self._failure_rate

    async def _render(self, prediction_id: str, request: dict[str, Any]) -> str:
        kind, inputs, seed = request["kind"], request["input"], request["seed"]
        path = self._path(prediction_id, SUFFIXES.get(kind, "wav"))
        if path.exists():  # rendered already, before a restart or for an earlier poll
            return path.name
        reference = await self._reference(inputs.get("reference_image"))
        if kind == "image":
            data = await asyncio.to_thread(
                local_media.image,
                inputs.get("prompt", ""),
                inputs.get("aspect_ratio", "1:1"),
                seed,
                reference,
            )
        elif kind == "video":
            data = await asyncio.to_thread(
                local_media.video,
                float(inputs.get("duration", 5)),
                int(inputs.get("fps", 12)),
                inputs.get("aspect_ratio", "16:9"),
                seed,
                reference,
            )
        else:
            data = await asyncio.to_thread(
                local_media.music, float(inputs.get("duration", 8)), seed
            )
        partial = path.with_suffix(".partial")  # a kill mid-write leaves no torn output
        await asyncio.to_thread(partial.write_bytes, data)
        partial.replace(path)
        return path.name

    async def _reference(self, reference: str | None) -> bytes | None:
        if not reference or not reference.startswith(STORAGE_SCHEME):
            return None
        chunks = [c async for c in self._storage.read(reference.removeprefix(STORAGE_SCHEME))]
        return b"".join(chunks)
