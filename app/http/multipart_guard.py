"""Guards for GraphQL multipart requests (file uploads) before any byte is parsed.

- CSRF: a multipart form is a "simple" request a hostile page can send cross-site, so one of
  the non-simple headers ``Apollo-Require-Preflight``, ``X-Apollo-Operation-Name`` or
  ``GraphQL-Preflight`` must be present (browsers only send those after a CORS preflight).
- Size: the body is cut off at ``max_bytes`` while it streams (413), never buffered whole;
  the counting is :class:`~app.http.bodies.BodyLimit`'s.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.http.bodies import BodyLimit, error_response

PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name", b"graphql-preflight")


class MultipartGuard(BodyLimit):
    def __init__(self, app: ASGIApp, *, path: str, max_bytes: int) -> None:
        super().__init__(app, path=path, max_bytes=max_bytes, what="use createAssetUpload")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._applies(scope):
            headers = dict(scope["headers"])
            if not any(headers.get(name) for name in PREFLIGHT_HEADERS):
                message = "Multipart requests need an Apollo-Require-Preflight header."
                await error_response(400, message)(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _applies(self, scope: Scope) -> bool:
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        return bool(
            scope["path"] == self.path
            and scope["method"] == "POST"
            and content_type.startswith(b"multipart/form-data")
        )
