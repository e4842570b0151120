"""Reading server-sent events from an httpx streaming response (test helper)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    name: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


async def read_events(response: httpx.Response) -> AsyncIterator[Event]:
    """The events of a text/event-stream response, as the browser's EventSource sees them."""
    name, data, event_id = "message", [], None
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield Event(name, "\n".join(data), event_id)
            name, data, event_id = "message", [], None
        elif line.startswith(":"):
            continue  # a comment (keep-alive)
        else:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
            elif key == "id":
                event_id = value
