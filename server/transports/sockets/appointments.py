"""Pushes changed appointments to every console (namespace /counsellor, event ``appointments``),
so a new booking or a delivery report shows without a reload. Never a phone number."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import socketio

from server.services.booking import BookingService
from server.transports.sockets.counsellor import NAMESPACE
from server.transports.sockets.rooms import STAFF_ROOM
from server.transports.wire import staff_appointment

log = logging.getLogger(__name__)


class AppointmentPush:
    """The booking services' ``notify`` port; bound to the booking service once it exists."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self.booking: BookingService | None = None

    async def __call__(self, appointment_ids: Sequence[str]) -> None:
        if self.booking is None or not appointment_ids:
            return
        try:
            views = await self.booking.staff_appointments_by_id(appointment_ids)
            await self.sio.emit(
                "appointments",
                {"appointments": [staff_appointment(view) for view in views]},
                room=STAFF_ROOM,
                namespace=NAMESPACE,
            )
        except Exception:
            log.exception("pushing appointment changes failed")
