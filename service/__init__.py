"""Chain Collab: the domain, the app factory and its extensions."""

from service.app import create_app

__all__ = ["create_app"]
