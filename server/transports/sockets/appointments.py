"""Pushes changed appointments to every console (namespace /counsellor, event ``appointments``),
so a new booking or a delivery report shows without a reload. Never a phone number."""

from __future__ import annotations

import socketio

from server.services.booking import BookingService
from server.services.events import AppointmentsChanged, Event
from server.transports.sockets.counsellor import NAMESPACE
from server.transports.sockets.rooms import STAFF_ROOM
from server.transports.wire import staff_appointment


class AppointmentPush:
    """Subscribes to the event bus; fetches the changed appointments through the booking service."""

    def __init__(self, sio: socketio.AsyncServer, booking: BookingService) -> None:
        self.sio = sio
        self.booking = booking

    async def on_event(self, event: Event) -> None:
        if not isinstance(event, AppointmentsChanged) or not event.appointment_ids:
            return
        views = await self.booking.staff_appointments_by_id(event.appointment_ids)
        await self.sio.emit(
            "appointments",
            {"appointments": [staff_appointment(view) for view in views]},
            room=STAFF_ROOM,
            namespace=NAMESPACE,
        )
