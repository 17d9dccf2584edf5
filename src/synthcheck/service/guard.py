"""What every request passes before any route reads it: Host allow-list, Origin check, bearer
token, and the security headers every response carries.

A pure ASGI layer, outside the body-size limit and the routes, so a refused request is answered
before a single byte of its body is read (an unauthenticated client cannot make the server
spool a 50 MB upload to disk).

* **Host** (DNS rebinding): a page on ``attacker.example`` whose name later resolves to
  127.0.0.1 reaches the server with ``Host: attacker.example``. Only the bound address, the
  loopback names and ``--allowed-host`` names are served; the port, if given, is not compared
  (it cannot be chosen by a rebinding page any more than the address).
* **Origin** on state-changing methods: browsers send it on every cross-site POST (forms
  included), so a request whose Origin is not this server's own is refused; clients that are not
  browsers send none and are not affected.
* **Token** (when configured): checked on every ``/api/`` request here, before the body.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from fastapi import params as params_module

from synthcheck.service.auth import bearer_token_matches
from synthcheck.service.escape import escape_controls
from synthcheck.service.settings import ServiceSettings

__all__ = ["STATE_CHANGING", "RequestGuard", "allowed_host_names", "check_body_type"]

Scope = dict[str, Any]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WILDCARDS = {"0.0.0.0", "::", ""}
_UI_PAGES = ("/", "/static/index.html")
_UI_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'"
)


def _host_form(name: str) -> str:
    """``name`` as it appears in a Host header: lower case, IPv6 addresses in brackets."""
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        return name
    try:
        if ipaddress.ip_address(name).version == 6:
            return f"[{name}]"
    except ValueError:
        pass
    return name


def allowed_host_names(settings: ServiceSettings) -> frozenset[str]:
    """The loopback names, the bound address (unless a wildcard such as 0.0.0.0, which is no
    name a client can use) and the explicitly allowed names, in Host-header form."""
    names = {"localhost", "127.0.0.1", "[::1]"}
    if settings.host not in _WILDCARDS:
        names.add(_host_form(settings.host))
    names.update(_host_form(n) for n in settings.allowed_hosts)
    return frozenset(names)


def _split_host(value: str) -> tuple[str, str] | None:
    """(host, port) of a Host header value; None when it is not one."""
    value = value.strip().lower()
    if not value or any(c in value for c in "/@?#\\ "):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[: end + 1], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return host, port


class RequestGuard:
    def __init__(self, app: Any, settings: ServiceSettings) -> None:
        self.app = app
        self.allowed = allowed_host_names(settings)
        self.token = settings.token
        self.cors_origins = tuple(settings.cors_origins)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = _with_security_headers(message.get("headers", []), path)
            await send(message)

        headers = _headers(scope)
        problem = self._check(scope, headers)
        if problem is not None:
            status, detail, extra = problem
            await _reply(send_with_headers, status, detail, extra)
            return
        await self.app(scope, receive, send_with_headers)

    def _check(
        self, scope: Scope, headers: dict[str, str]
    ) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        raw_host = headers.get("host")
        split = None if raw_host is None else _split_host(raw_host)
        if split is None or split[0] not in self.allowed:
            shown = "none" if raw_host is None else repr(escape_controls(raw_host[:200]))
            return (
                400,
                f"invalid Host header ({shown}): this server answers only to "
                f"{', '.join(sorted(self.allowed))}; start it with --allowed-host NAME to "
                "reach it under another name",
                [],
            )
        method = str(scope.get("method", "GET")).upper()
        origin = headers.get("origin")
        if method in STATE_CHANGING and origin is not None:
            own = f"{scope.get('scheme', 'http')}://{raw_host}"
            if not any(_same_origin(origin, o) for o in (own, *self.cors_origins)):
                return (
                    403,
                    f"cross-origin request refused: Origin {escape_controls(origin[:200])!r} is "
                    "not this server's own",
                    [],
                )
        # OPTIONS is exempt: a CORS preflight (for --cors-origins) carries no credentials.
        api = str(scope.get("path", "")).startswith("/api/")
        if (
            self.token is not None
            and api
            and method != "OPTIONS"
            and not bearer_token_matches(headers.get("authorization", ""), self.token)
        ):
            return 401, "missing or wrong bearer token", [(b"www-authenticate", b"Bearer")]
        return None


def _takes_upload(route: Any) -> bool:
    dependant = getattr(route, "dependant", None)
    params = getattr(dependant, "body_params", [])
    return any(isinstance(p.field_info, params_module.Form) for p in params)


async def check_body_type(request: Request) -> None:
    """Route dependency: a state-changing route takes only the body type it was written for.

    Forms and ``text/plain`` are what another site's page can send without a CORS preflight, so
    a JSON (or body-less) route such as ``.../train`` refuses them (415) even when no Origin
    header came along; upload routes need ``multipart/form-data``.
    """
    if request.method not in STATE_CHANGING:
        return
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if _takes_upload(request.scope.get("route")):
        if media and media != "multipart/form-data":  # none at all: FastAPI's 422
            raise HTTPException(
                415, "this route takes a multipart/form-data upload (field 'files')"
            )
    elif media not in ("", "application/json"):
        raise HTTPException(
            415, f"this route takes a JSON body or none, not {escape_controls(media[:100])}"
        )


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").lower()
        if key in ("host", "origin", "authorization") and key in out:
            # Two Host (or Origin) headers: which one a proxy or the app reads is ambiguous.
            out[key] = "\0duplicate"
        else:
            out[key] = value.decode("latin-1")
    return out


def _origin_parts(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    default = 80 if parts.scheme == "http" else 443
    return parts.scheme, parts.hostname, port if port is not None else default


def _same_origin(origin: str, own: str) -> bool:
    # "null" (sandboxed frames, file: pages) and anything unparsable never match.
    a, b = _origin_parts(origin), _origin_parts(own)
    return a is not None and a == b


def _with_security_headers(
    headers: list[tuple[bytes, bytes]], path: str
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    out = list(headers)
    policy = _UI_POLICY if path in _UI_PAGES else "frame-ancestors 'none'"
    for name, value in (
        (b"content-security-policy", policy),
        (b"x-frame-options", "DENY"),
        (b"x-content-type-options", "nosniff"),
        (b"referrer-policy", "no-referrer"),
    ):
        if name not in present:
            out.append((name, value.encode()))
    return out


async def _reply(send: Any, status: int, detail: str, extra: list[tuple[bytes, bytes]]) -> None:
    kind = {400: "invalid_host", 401: "unauthorized", 403: "forbidden_origin"}[status]
    body = json.dumps({"detail": detail, "type": kind}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
