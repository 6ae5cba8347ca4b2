"""The HTTP API: JSON routes over the store and a worker's live state, and its client.

``add_routes(aiohttp_app, ApiContext(...))`` mounts the routes, the dashboard
page and ``/metrics`` on any aiohttp application (a worker mounts them on
Faust's web server, ``topictrack serve`` on a plain one);
:func:`~streamer.api.client.ask_worker` is how the CLI asks a running worker.
"""

from __future__ import annotations

from streamer.api.context import ApiContext, LiveWorker, Security, Unavailable
from streamer.api.routes import add_routes

__all__ = ["ApiContext", "LiveWorker", "Security", "Unavailable", "add_routes"]
