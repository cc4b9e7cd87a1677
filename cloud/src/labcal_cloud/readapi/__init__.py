"""Read API (FastAPI router): stored readings, runs and usage per device, per tenant."""

from labcal_cloud.readapi.app import create_app
from labcal_cloud.readapi.router import router

__all__ = ["create_app", "router"]
