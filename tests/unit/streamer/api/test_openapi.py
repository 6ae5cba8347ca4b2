"""The OpenAPI document: valid OpenAPI 3.1, and it documents every mounted route."""

from __future__ import annotations

from aiohttp import web
from openapi_spec_validator import validate

from streamer.api import ApiContext, add_routes
from streamer.api.openapi import document
from streamer.api.spec import API, ROUTES


def test_the_document_is_valid_openapi():
    validate(document())


def test_every_route_is_documented_with_its_bounds():
    doc = document()
    app = web.Application()
    add_routes(app, ApiContext(agents=frozenset()))
    mounted = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith(API + "/")
        and r.method != "HEAD"
    }
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert mounted - {("GET", f"{API}/openapi.json")} == documented
    trending = doc["paths"][f"{API}/trending"]["get"]
    limit = next(p for p in trending["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100 and "409" in trending["responses"]
    topic = doc["paths"][f"{API}/topics/{{topic_id}}"]["get"]
    assert {"name": "topic_id", "in": "path"}.items() <= topic["parameters"][-1].items()
    assert len(ROUTES) == len(documented)
