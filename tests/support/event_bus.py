"""An event bus that records what the services announced, and still delivers it."""

from __future__ import annotations

from typing import TypeVar

from server.services.events import Event, EventBus

AnEvent = TypeVar("AnEvent")


class RecordingBus(EventBus):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.published.append(event)
        await super().publish(event)

    def of(self, kind: type[AnEvent]) -> list[AnEvent]:
        return [event for event in self.published if isinstance(event, kind)]
