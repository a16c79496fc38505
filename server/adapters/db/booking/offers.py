"""The times a counsellor offered in a chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select

from server.adapters.db.booking.rows import BookingTables
from server.adapters.db.tables import slot_offers
from server.services.ports.booking import SlotOffer


class OfferQueries(BookingTables):
    async def add_offer(
        self, conversation_id: str, counsellor_id: int, kind: str, starts: Sequence[datetime], now: datetime
    ) -> None:
        await self.connection.execute(
            insert(slot_offers).values(
                conversation_id=conversation_id,
                counsellor_id=counsellor_id,
                kind=kind,
                starts=[start.astimezone(UTC).isoformat() for start in starts],
                created_at=now,
            )
        )

    async def latest_offer(self, conversation_id: str) -> SlotOffer | None:
        row = (
            await self.connection.execute(
                select(slot_offers)
                .where(slot_offers.c.conversation_id == conversation_id)
                .order_by(slot_offers.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return SlotOffer(
            row.id, row.conversation_id, row.counsellor_id, row.kind, list(row.starts), row.created_at
        )
