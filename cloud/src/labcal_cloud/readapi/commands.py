"""``labcal-cloud token add`` and ``labcal-cloud serve-api``."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from labcal_cloud.readapi.auth import token_digest
from labcal_cloud.settings import Settings
from labcal_cloud.storage.factory import open_store
from labcal_shared.contracts import validate_identifier

__all__ = ["register"]


def register(subparsers: Any) -> None:
    token = subparsers.add_parser("token", help="API tokens of tenants")
    sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    add: argparse.ArgumentParser = sub.add_parser("add", help="create a bearer token for a tenant")
    add.add_argument("--tenant", required=True)
    add.add_argument("--label", default="")
    add.set_defaults(handler=token_add)
    serve: argparse.ArgumentParser = subparsers.add_parser("serve-api", help="run the read API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=serve_api)


def token_add(args: argparse.Namespace, settings: Settings) -> int:
    tenant = validate_identifier(args.tenant, "tenant")
    token = secrets.token_urlsafe(32)
    store = open_store(settings.database_url)
    try:
        store.add_api_token(tenant, token_digest(token), args.label)
    finally:
        store.close()
    print(token)
    return 0


def serve_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from labcal_cloud.readapi.app import create_app

    store = open_store(settings.database_url)
    try:
        uvicorn.run(create_app(store), host=args.host, port=args.port)
    finally:
        store.close()
    return 0
