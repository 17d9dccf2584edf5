"""Bearer-token authentication, compared in constant time (checked by service.guard before a
request's body is read)."""

from __future__ import annotations

import hmac

__all__ = ["bearer_token_matches"]


def bearer_token_matches(authorization: str, expected: str) -> bool:
    """Whether an ``Authorization`` header value carries ``Bearer <expected>``."""
    scheme, _, supplied = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        supplied.strip().encode(), expected.encode()
    )
