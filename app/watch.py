"""``adstudio jobs watch``: a terminal progress bar and stage log, driven by ``jobUpdated``."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import websockets

from app.models.enums import JOB_FINAL

QUERY = """subscription($j: ID!) { jobUpdated(jobId: $j) {
  status errorMessage progress { stage percent message currentStep totalSteps }
} }"""
FINAL = {status.name for status in JOB_FINAL}
WIDTH = 30


def bar(percent: float) -> str:
    filled = round(WIDTH * max(0.0, min(percent, 100.0)) / 100)
    return "[" + "#" * filled + "." * (WIDTH - filled) + f"] {percent:5.1f}%"


async def watch(url: str, token: str, job_id: str, out: TextIO = sys.stdout) -> str:
    """Print progress until the job ends; returns its final status."""
    ws_url = url.replace("https://", "wss://").replace("http://", "ws://").rstrip("/") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        if json.loads(await ws.recv()).get("type") != "connection_ack":
            raise RuntimeError("the server refused the connection")
        await ws.send(
            json.dumps(
                {
                    "id": "watch",
                    "type": "subscribe",
                    "payload": {"query": QUERY, "variables": {"j": job_id}},
                }
            )
        )
        return await _follow(ws, out)


async def _follow(ws: Any, out: TextIO) -> str:
    status, stage = "", ""
    async for raw in ws:
        message = json.loads(raw)
        if message.get("type") == "next":
            if message["payload"].get("errors"):
                raise RuntimeError(message["payload"]["errors"][0]["message"])
            job = message["payload"]["data"]["jobUpdated"]
            status, progress = job["status"], job["progress"]
            if progress["stage"] != stage:
                stage = progress["stage"]
                out.write(f"\n{status}: {stage}\n")
            out.write(f"\r{bar(progress['percent'])} {progress.get('message') or ''}"[:120])
            out.flush()
        elif message.get("type") in {"complete", "error"}:
            break
    out.write(f"\n{status}\n")
    return status
