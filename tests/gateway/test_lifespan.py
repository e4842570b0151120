"""The gateway's startup heap is left out of full collections while it serves."""

import gc

from tests.gateway.asgi_app import asgi_client


async def test_gateway_while_serving_has_its_startup_heap_frozen():
    async with asgi_client() as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
