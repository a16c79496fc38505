"""Availability, appointments, their texts, opt-outs and offers in SQL: one repository joined
from one module per concept (``server.adapters.db.booking``).

Phone numbers are encrypted like message text; a keyed hash of the number (never the number) is
what lookups by number use. Texts are claimed with one conditional UPDATE before they are sent."""

from __future__ import annotations

from server.adapters.db.booking.appointments import AppointmentQueries
from server.adapters.db.booking.availability import AvailabilityQueries
from server.adapters.db.booking.offers import OfferQueries
from server.adapters.db.booking.opt_outs import OptOutQueries
from server.adapters.db.booking.reconciliation import ReconciliationQueries
from server.adapters.db.booking.seats import SeatQueries
from server.adapters.db.booking.texts import TextQueries


class BookingStore(
    AvailabilityQueries,
    SeatQueries,
    AppointmentQueries,
    TextQueries,
    ReconciliationQueries,
    OptOutQueries,
    OfferQueries,
):
    """The booking repository: every query of the booking port on one connection."""
