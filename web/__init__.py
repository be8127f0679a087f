"""The Flask app: pages people use all day and the JSON API. Calls engine services only."""

from web.app import create_app

__all__ = ["create_app"]
