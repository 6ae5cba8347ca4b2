"""The HTTP API: JSON routes over the store and a worker's live state, and its client.

``add_routes(aiohttp_app, ApiContext(...))`` mounts the routes on any aiohttp
application (a worker mounts them on Faust's web server);
:func:`~streamer.api.client.ask_worker` is how the CLI asks a running worker.
"""

from __future__ import annotations

from streamer.api.context import ApiContext, LiveWorker
from streamer.api.routes import add_routes

__all__ = ["ApiContext", "LiveWorker", "add_routes"]
