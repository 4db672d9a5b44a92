"""A fake Replicate on loopback that speaks the wire format the real ``replicate`` client expects.

Predictions move starting -> processing -> succeeded (or failed) as they are polled; outputs are
real files served by the fake; webhooks are signed the Standard Webhooks way; faults can be
injected (429 with Retry-After, 500/503, slow answers, dropped connections, failed runs), and
a create can be held at a gate the test opens (to kill the server while its call is in flight).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests import media_files as mf

OUTPUTS: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "image": ("png", "image/png", lambda: mf.png(96, 54)),
    "video": ("mp4", "video/mp4", lambda: mf.mp4(1)),
    "audio": ("mp3", "audio/mpeg", lambda: mf.mp3(1)),
}
MODEL_KINDS = {
    "black-forest-labs/flux-schnell": "image",
    "google/nano-banana": "image",
    "bytedance/seedance-1-lite": "video",
    "kwaivgi/kling-v2.1": "video",
    "fofr/skyreels-2": "video",
    "meta/musicgen": "audio",
    "riffusion/riffusion": "audio",
    "meta/meta-llama-3-8b-instruct": "text",
}
PLANNED = {
    "scenes": [
        {
            "description": f"Fake planned scene {n}",
            "script": f"Line {n}",
            "imagePrompt": f"Prompt {n}",
            "shotType": "close-up" if n == 2 else "wide",
            "transition": "dissolve",
            "duration": 5,
        }
        for n in (1, 2, 3)
    ]
}


@dataclass
class Prediction:
    id: str
    model: str
    input: dict[str, Any]
    webhook: str | None
    status: str = "starting"
    polls: int = 0
    output: str | list[str] | None = None
    error: str | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    completed_at: str | None = None


@dataclass
class CreateGate:
    """Holds the first create whose prompt has this key: before or after the prediction exists.

    ``arrived`` is set once the create is held there; the test then ``open``s the gate, to let
    it go on, or ``drop``s the connection instead, as if the caller had died meanwhile.
    ``answered`` is set once the answer was written.
    """

    after_create: bool
    claimed: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    _opened: threading.Event = field(default_factory=threading.Event)
    _dropped: bool = False

    def open(self) -> None:
        self._opened.set()

    def drop(self) -> None:
        self._dropped = True
        self._opened.set()

    def pass_through(self) -> bool:
        """Hold the request until the test decides; True if it is to go on."""
        self.arrived.set()
        self._opened.wait()
        return not self._dropped


class FakeReplicate:
    def __init__(self) -> None:
        self.token = "r8_fake_" + secrets.token_hex(8)
        self.webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.predictions: dict[str, Prediction] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.creations: Counter[str] = Counter()
        self.cancels: Counter[str] = Counter()
        self.create_faults: deque[int] = deque()
        self.get_faults: deque[int | str] = deque()
        # Faults that hold for every request about a prediction whose prompt is the key:
        # create:<status> (every create refused), create:<status>-after / create:drop-after
        # (the first create succeeds, then its answer is a 5xx or a dropped connection),
        # get:<status>, get:drop, get:slow (longer than the client's poll timeout),
        # file:<status> (output downloads), fail, hold (never finishes).
        self.sticky: dict[str, str] = {}
        self.gates: dict[str, CreateGate] = {}
        self.slow_seconds = 6.0
        self.page_size = 3
        self.polls_to_finish = 2
        self.mode = "succeed"  # succeed | fail | hold
        self.webhooks_sent: list[dict[str, Any]] = []
        self.text_output = "Here is the plan: " + json.dumps(PLANNED)
        self.predict_time = 2.5
        self.base = ""
        self._lock = threading.Lock()

    # -- state machine -------------------------------------------------------------------------
    def create(self, model: str, body: dict[str, Any]) -> Prediction:
        with self._lock:
            prediction = Prediction(
                secrets.token_hex(13), model, body.get("input") or {}, body.get("webhook")
            )
            self.predictions[prediction.id] = prediction
            self.creations[model] += 1
            return prediction

    def hold_create(self, key: str, *, after_create: bool) -> CreateGate:
        """A gate for the next create whose prompt is ``key`` or ``key#<anything>``."""
        gate = self.gates[key] = CreateGate(after_create)
        return gate

    def gate_for(self, prompt: str) -> CreateGate | None:
        """The gate this create meets (each gate holds one create only)."""
        with self._lock:
            gate = self.gates.get(prompt.partition("#")[0])
            if gate is None or gate.claimed:
                return None
            gate.claimed = True
            return gate

    def add_foreign(self, count: int) -> None:
        """Finished predictions that others made on the account, newer than ours: a search
        for ours has to page past them."""
        for n in range(count):
            prediction = Prediction(
                secrets.token_hex(13),
                "black-forest-labs/flux-schnell",
                {"prompt": f"other {n}"},
                None,
            )
            with self._lock:
                self.predictions[prediction.id] = prediction
            self.finish(prediction.id, fail=False)

    def running(self) -> list[Prediction]:
        with self._lock:
            return [
                p
                for p in self.predictions.values()
                if p.status not in ("succeeded", "failed", "canceled")
            ]

    def marked(self, marker: str) -> list[Prediction]:
        """The predictions whose webhook URL carries ``generation=<marker>``."""
        with self._lock:
            return [
                p for p in self.predictions.values() if f"generation={marker}" in (p.webhook or "")
            ]

    def creations_for(self, prediction: Prediction) -> int:
        """How many predictions were created with this one's prompt."""
        with self._lock:
            return sum(p.input == prediction.input for p in self.predictions.values())

    def advance(self, prediction: Prediction) -> None:
        with self._lock:
            if prediction.status in ("succeeded", "failed", "canceled"):
                return
            prediction.polls += 1
            if prediction.polls >= 1:
                prediction.status = "processing"
            sticky = self.sticky_for(prediction)
            if self.mode == "hold" or sticky == "hold" or prediction.polls < self.polls_to_finish:
                return
        self.finish(prediction.id, fail=True if sticky == "fail" else None)

    def sticky_for(self, prediction: Prediction) -> str:
        return self.sticky_for_prompt(str(prediction.input.get("prompt", "")))

    def sticky_for_prompt(self, prompt: str) -> str:
        """The fault for a prompt ``<key>`` or ``<key>#<anything>``."""
        return self.sticky.get(prompt.partition("#")[0], "")

    def listing(self, offset: int) -> dict[str, Any]:
        """Newest first, ``page_size`` per page, with Replicate's cursor URLs."""
        with self._lock:
            newest = sorted(self.predictions.values(), key=lambda p: p.created_at, reverse=True)
        page = newest[offset : offset + self.page_size]
        after = offset + self.page_size
        return {
            "previous": None
            if offset == 0
            else f"{self.base}/v1/predictions?cursor={offset - self.page_size}",
            "next": f"{self.base}/v1/predictions?cursor={after}" if after < len(newest) else None,
            "results": [self.as_json(p) for p in page],
        }

    def finish(self, prediction_id: str, *, fail: bool | None = None) -> None:
        prediction = self.predictions[prediction_id]
        with self._lock:
            if prediction.status in ("succeeded", "failed", "canceled"):
                return
            failing = self.mode == "fail" if fail is None else fail
            kind = MODEL_KINDS.get(prediction.model, "image")
            if failing:
                prediction.status, prediction.error = "failed", "CUDA out of memory (fake)"
            elif kind == "text":  # language models stream tokens: a list of strings
                text = self.text_output
                prediction.status = "succeeded"
                prediction.output = [text[i : i + 7] for i in range(0, len(text), 7)]
            else:
                ext, mime, make = OUTPUTS[MODEL_KINDS.get(prediction.model, "image")]
                name = f"{prediction.id}.{ext}"
                self.files[name] = (mime, make())
                prediction.status, prediction.output = "succeeded", f"{self.base}/files/{name}"
            prediction.completed_at = datetime.now(UTC).isoformat()
        self._send_webhook(prediction)

    def release_all(self) -> None:
        self.mode = "succeed"
        for prediction_id in list(self.predictions):
            self.finish(prediction_id)

    def cancel(self, prediction: Prediction) -> None:
        with self._lock:
            self.cancels[prediction.id] += 1
            if prediction.status not in ("succeeded", "failed", "canceled"):
                prediction.status = "canceled"
                prediction.completed_at = datetime.now(UTC).isoformat()

    def as_json(self, prediction: Prediction) -> dict[str, Any]:
        urls = {
            "get": f"{self.base}/v1/predictions/{prediction.id}",
            "cancel": f"{self.base}/v1/predictions/{prediction.id}/cancel",
            "stream": f"{self.base}/v1/predictions/{prediction.id}/stream",
            "web": f"{self.base}/p/{prediction.id}",
        }
        done = prediction.status in ("succeeded", "failed", "canceled")
        logs = " 50%|#####     | 2/4 [00:01<00:01]" if prediction.status == "processing" else ""
        return {
            "id": prediction.id,
            "model": prediction.model,
            "version": "hidden",
            "input": prediction.input,
            "logs": logs,
            "output": prediction.output,
            "data_removed": False,
            "error": prediction.error,
            "status": prediction.status,
            "source": "api",
            "created_at": prediction.created_at,
            "started_at": None,
            "completed_at": prediction.completed_at,
            "metrics": {"predict_time": self.predict_time} if done else {},
            "urls": urls,
            "webhook": prediction.webhook,
        }

    # -- webhooks ------------------------------------------------------------------------------
    def sign(
        self, body: bytes, *, webhook_id: str | None = None, timestamp: int | None = None
    ) -> dict[str, str]:
        webhook_id = webhook_id or "msg_" + secrets.token_hex(8)
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        key = base64.b64decode(self.webhook_secret.split("_", 1)[1])
        digest = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
            "content-type": "application/json",
        }

    def _send_webhook(self, prediction: Prediction) -> None:
        if not prediction.webhook:
            return
        body = json.dumps(self.as_json(prediction)).encode()
        headers = self.sign(body)
        self.webhooks_sent.append({"headers": headers, "body": body, "url": prediction.webhook})
        threading.Thread(
            target=_post, args=(prediction.webhook, body, headers), daemon=True
        ).start()


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    # Like Replicate's, a failed delivery is the receiver's loss; polling covers it.
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(url, content=body, headers=headers, timeout=5)


def _handler(fake: FakeReplicate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: object) -> None:
            return

        def _json(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int) -> None:
            titles = {
                401: "Unauthenticated",
                404: "Not found",
                429: "Too many requests",
                500: "Internal server error",
                503: "Service unavailable",
            }
            self._json(
                status,
                {"title": titles.get(status, "Error"), "detail": "fake", "status": status},
                {"Retry-After": "0"} if status == 429 else None,
            )

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {fake.token}":
                return True
            self._error(401)
            return False

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self._authorized():
                return
            parts = self.path.strip("/").split("/")
            if len(parts) == 5 and parts[:2] == ["v1", "models"] and parts[4] == "predictions":
                if fake.create_faults:
                    self._error(fake.create_faults.popleft())
                    return
                prompt = str((body.get("input") or {}).get("prompt", ""))
                sticky = fake.sticky_for_prompt(prompt)
                if sticky.startswith("create:") and not sticky.endswith("-after"):
                    self._fault(sticky.removeprefix("create:"))
                    return
                gate = fake.gate_for(prompt)
                if gate is not None and not gate.after_create and not gate.pass_through():
                    self._fault("drop")
                    return
                prediction = fake.create(f"{parts[2]}/{parts[3]}", body)
                if gate is not None and gate.after_create and not gate.pass_through():
                    self._fault("drop")
                    return
                if sticky.endswith("-after") and fake.creations_for(prediction) == 1:
                    self._fault(sticky.removeprefix("create:").removesuffix("-after"))
                    return
                self._json(201, fake.as_json(prediction))
                if gate is not None:
                    gate.answered.set()
            elif len(parts) == 4 and parts[3] == "cancel" and parts[2] in fake.predictions:
                prediction = fake.predictions[parts[2]]
                fake.cancel(prediction)
                self._json(200, fake.as_json(prediction))
            else:
                self._error(404)

        def do_GET(self) -> None:
            if self.path.startswith("/files/"):
                self._file(self.path.removeprefix("/files/"))
                return
            if not self._authorized():
                return
            path, _, query = self.path.partition("?")
            parts = path.strip("/").split("/")
            if parts == ["v1", "predictions"]:
                cursor = query.removeprefix("cursor=") if query.startswith("cursor=") else "0"
                self._json(200, fake.listing(int(cursor or 0)))
                return
            if (
                len(parts) == 3
                and parts[:2] == ["v1", "predictions"]
                and parts[2] in fake.predictions
            ):
                if fake.get_faults and self._fault(fake.get_faults.popleft()):
                    return
                prediction = fake.predictions[parts[2]]
                sticky = fake.sticky_for(prediction)
                if sticky.startswith("get:") and self._fault(sticky.removeprefix("get:")):
                    return
                fake.advance(prediction)
                self._json(200, fake.as_json(prediction))
            else:
                self._error(404)

        def _fault(self, fault: int | str) -> bool:
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return True
            if fault == "slow":
                time.sleep(1.5)
                return False
            if fault == "slower":  # beyond the client's poll timeout
                time.sleep(fake.slow_seconds)
                return False
            self._error(int(fault))
            return True

        def _file(self, name: str) -> None:
            if name not in fake.files:
                self._error(404)
                return
            owner = fake.predictions.get(name.partition(".")[0])
            sticky = fake.sticky_for(owner) if owner is not None else ""
            if sticky.startswith("file:"):
                self._error(int(sticky.removeprefix("file:")))
                return
            mime, data = fake.files[name]
            self.send_response(200)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A caller killed mid-request leaves a reset connection behind: expected, not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def running_fake() -> Iterator[FakeReplicate]:
    fake = FakeReplicate()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        for gate in fake.gates.values():
            gate.drop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
