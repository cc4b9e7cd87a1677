"""Bearer API tokens, one or more per tenant (stored as SHA-256; the token itself is shown once)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from labcal_cloud.storage.ports import Store

__all__ = ["CurrentTenant", "StoreDep", "current_tenant", "get_store", "token_digest"]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_store(request: Request) -> Store:
    store: Store = request.app.state.labcal_store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def current_tenant(store: StoreDep, authorization: Annotated[str | None, Header()] = None) -> str:
    """The tenant whose token is in ``Authorization: Bearer <token>``; 401 otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    tenant = store.tenant_for_token(token_digest(token.strip()))
    if tenant is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown token", headers={"WWW-Authenticate": "Bearer"}
        )
    return tenant


CurrentTenant = Annotated[str, Depends(current_tenant)]
