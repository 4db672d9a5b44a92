"""Keeping secrets out of every log line, whatever the format and whatever is being logged.

Three nets, each catching what the others miss:

- keys that name a secret (``password``, ``token``, ``authorization``, ``cookie``...) have their
  values replaced, however deeply nested;
- text is scanned for the shapes our secrets have (JWTs, ``ads_`` API keys, ``adsr_`` refresh
  tokens, ``Bearer`` values, cookie headers, Standard Webhooks secrets);
- the configured secret values themselves (signing key, provider token, webhook secret) are
  replaced wherever they appear, and so is any long piece of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"
SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|cookie|api[_-]?key|signature|credential|jwt",
    re.IGNORECASE,
)
_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(r"ads_[0-9a-f]{12}_[A-Za-z0-9_-]+"),  # an API key
    re.compile(r"adsr_[A-Za-z0-9_-]+"),  # a refresh token
    re.compile(r"whsec_[A-Za-z0-9+/=_-]+"),  # a webhook secret
    re.compile(r"(?i)(?<=bearer )[^\s'\",;]+"),
    re.compile(r"(?i)(?<=adstudio_access=)[^\s'\",;]+"),
    re.compile(r"(?i)(?<=adstudio_refresh=)[^\s'\",;]+"),
    re.compile(r"(?i)(?<=[?&]signature=)[^&\s'\"]+"),  # signed media and upload links
)
# A piece of a configured secret this long is as good as the secret: replace it too.
FRAGMENT = 8


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= FRAGMENT}, key=len, reverse=True)
        fragments = {s[i : i + FRAGMENT] for s in self._secrets for i in range(len(s) - 7)}
        self._fragments = (
            re.compile("|".join(re.escape(f) for f in sorted(fragments))) if fragments else None
        )

    def text(self, value: str) -> str:
        for pattern in _PATTERNS:
            value = pattern.sub(REDACTED, value)
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        if self._fragments is not None:
            value = self._fragments.sub(REDACTED, value)
        return value

    def value(self, value: Any, *, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if depth > 6:
            return value
        if isinstance(value, Mapping):
            return {k: self.item(k, v, depth=depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v, depth=depth + 1) for v in value)
        return value

    def item(self, key: Any, value: Any, *, depth: int = 0) -> Any:
        if isinstance(key, str) and SENSITIVE_KEY.search(key) and value not in (None, ""):
            return REDACTED
        return self.value(value, depth=depth)

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> dict[str, Any]:
        """A structlog processor: runs after exceptions are rendered to text, before output."""
        return {key: self.item(key, value) for key, value in event_dict.items()}
