"""An ASGI middleware that refuses request bodies over a byte limit before they are parsed.

The multipart parser spools uploads to disk as it reads them, so the limit must be enforced on
the raw stream: by ``Content-Length`` up front, and by counting for chunked bodies. Either way
the answer is 413, whatever the app made of the interrupted stream.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

__all__ = ["BodySizeLimit"]

Scope = dict[str, Any]


class _TooLargeError(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    await self._reject(send)
                    return
        seen = 0
        exceeded = False
        replaced = False

        async def limited_receive() -> Any:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _TooLargeError
            return message

        async def guarded_send(message: Any) -> None:
            # Whoever catches _TooLargeError on the way (FastAPI turns any failure to read a
            # form into "400 error parsing the body") answers with the wrong status: once the
            # limit was crossed, the app's own response is replaced by the 413.
            nonlocal replaced
            if exceeded:
                if message["type"] == "http.response.start" and not replaced:
                    replaced = True
                    await self._reject(send)
                return
            await send(message)

        with contextlib.suppress(_TooLargeError):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded and not replaced:
            replaced = True
            await self._reject(send)

    async def _reject(self, send: Any) -> None:
        body = json.dumps(
            {"detail": f"request body is over the {self.max_bytes} byte limit", "type": "too_large"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
