"""The knowledge bank in SQL (docs/knowledge.md). Search: SQLite's FTS5 table knowledge_fts (kept
in step by triggers, migration 0014) or PostgreSQL's to_tsvector('simple', ...)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db.tables import knowledge_items, knowledge_texts, knowledge_versions, staff_users
from server.domain.knowledge import Audience, Contact, Draft, Item, Kind, StoredText, Text, Version

MAX_SEARCH_RESULTS = 200


def _item_values(draft: Draft) -> dict[str, Any]:
    return {
        "kind": draft.kind.value,
        "key": draft.key or None,
        "audience": draft.audience.value,
        "perspectives": list(draft.perspectives),
        "districts": list(draft.districts),
        "phone": draft.contact.phone,
        "url": draft.contact.url,
        "address": draft.contact.address,
        "hours": draft.contact.hours,
    }


def _fts_query(words: Sequence[str]) -> str:
    """Each word as an FTS5 prefix phrase: quoted, so nothing in it is query syntax."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def _ts_query(words: Sequence[str]) -> str:
    """Each word as a PostgreSQL prefix term; the service passes only letters and digits."""
    return " & ".join(word.replace("'", "") + ":*" for word in words if word.replace("'", ""))


class KnowledgeStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def count(self) -> int:
        return int(await self.connection.scalar(select(func.count()).select_from(knowledge_items)) or 0)

    async def add(self, draft: Draft, published: bool, user_id: int | None, now: datetime) -> int:
        item_id = (
            await self.connection.execute(
                insert(knowledge_items)
                .values(**_item_values(draft), published=published, created_at=now, updated_at=now)
                .returning(knowledge_items.c.id)
            )
        ).scalar_one()
        for one in draft.texts:
            await self._write_text(int(item_id), one, 1, user_id, now, new=True)
        return int(item_id)

    async def update(self, item_id: int, draft: Draft, user_id: int | None, now: datetime) -> bool:
        result = await self.connection.execute(
            update(knowledge_items)
            .where(knowledge_items.c.id == item_id)
            .values(**_item_values(draft), updated_at=now)
        )
        if result.rowcount != 1:
            return False
        current = {
            row.language: row
            for row in await self.connection.execute(
                select(knowledge_texts).where(knowledge_texts.c.item_id == item_id)
            )
        }
        for one in draft.texts:
            before = current.get(one.language)
            if before is None:
                await self._write_text(item_id, one, 1, user_id, now, new=True)
            elif (before.title, before.summary, before.body) != (one.title, one.summary, one.body):
                await self._write_text(item_id, one, before.version + 1, user_id, now, new=False)
        return True

    async def _write_text(
        self, item_id: int, one: Text, version: int, user_id: int | None, now: datetime, *, new: bool
    ) -> None:
        values = {"title": one.title, "summary": one.summary, "body": one.body}
        changed = {"version": version, "changed_by": user_id, "changed_at": now}
        if new:
            await self.connection.execute(
                insert(knowledge_texts).values(item_id=item_id, language=one.language, **values, **changed)
            )
        else:
            await self.connection.execute(
                update(knowledge_texts)
                .where(knowledge_texts.c.item_id == item_id, knowledge_texts.c.language == one.language)
                .values(**values, **changed)
            )
        await self.connection.execute(
            insert(knowledge_versions).values(item_id=item_id, language=one.language, **values, **changed)
        )

    async def set_published(self, item_id: int, published: bool, now: datetime) -> bool:
        result = await self.connection.execute(
            update(knowledge_items)
            .where(knowledge_items.c.id == item_id)
            .values(published=published, updated_at=now)
        )
        return bool(result.rowcount == 1)

    async def delete(self, item_id: int) -> bool:
        # Texts first, so the search table's triggers see every row go (not only the cascade).
        await self.connection.execute(delete(knowledge_texts).where(knowledge_texts.c.item_id == item_id))
        await self.connection.execute(
            delete(knowledge_versions).where(knowledge_versions.c.item_id == item_id)
        )
        result = await self.connection.execute(delete(knowledge_items).where(knowledge_items.c.id == item_id))
        return bool(result.rowcount == 1)

    async def get(self, item_id: int) -> Item | None:
        found = await self._load(knowledge_items.c.id == item_id)
        return found[0] if found else None

    async def items(self, kinds: Sequence[Kind], published_only: bool) -> list[Item]:
        conditions = [knowledge_items.c.kind.in_([kind.value for kind in kinds])]
        if published_only:
            conditions.append(knowledge_items.c.published.is_(True))
        return await self._load(*conditions)

    async def search(self, words: Sequence[str], kinds: Sequence[Kind], published_only: bool) -> list[Item]:
        if not words:
            return []
        if self.connection.dialect.name == "sqlite":
            rows = await self.connection.execute(
                text(
                    "SELECT item_id, min(rank) AS best FROM knowledge_fts WHERE knowledge_fts MATCH :query "
                    "GROUP BY item_id ORDER BY best LIMIT :limit"
                ),
                {"query": _fts_query(words), "limit": MAX_SEARCH_RESULTS},
            )
        else:
            document = func.to_tsvector(
                literal_column("'simple'"),
                knowledge_texts.c.title + " " + knowledge_texts.c.summary + " " + knowledge_texts.c.body,
            )
            query = func.to_tsquery(literal_column("'simple'"), _ts_query(words))
            rank = func.max(func.ts_rank(document, query)).label("best")
            rows = await self.connection.execute(
                select(knowledge_texts.c.item_id, rank)
                .where(document.op("@@")(query))
                .group_by(knowledge_texts.c.item_id)
                .order_by(rank.desc())
                .limit(MAX_SEARCH_RESULTS)
            )
        order = [int(row[0]) for row in rows]
        if not order:
            return []
        conditions = [
            knowledge_items.c.id.in_(order),
            knowledge_items.c.kind.in_([kind.value for kind in kinds]),
        ]
        if published_only:
            conditions.append(knowledge_items.c.published.is_(True))
        found = {item.id: item for item in await self._load(*conditions)}
        return [found[item_id] for item_id in order if item_id in found]

    async def versions(self, item_id: int) -> list[Version]:
        rows = await self.connection.execute(
            select(knowledge_versions, staff_users.c.display_name)
            .outerjoin(staff_users, staff_users.c.id == knowledge_versions.c.changed_by)
            .where(knowledge_versions.c.item_id == item_id)
            .order_by(knowledge_versions.c.changed_at.desc(), knowledge_versions.c.id.desc())
        )
        return [
            Version(
                item_id=row.item_id,
                language=row.language,
                version=row.version,
                title=row.title,
                summary=row.summary,
                body=row.body,
                changed_by=row.changed_by,
                changed_by_name=row.display_name,
                changed_at=row.changed_at,
            )
            for row in rows
        ]

    async def _load(self, *conditions: Any) -> list[Item]:
        rows = list(
            await self.connection.execute(
                select(knowledge_items).where(*conditions).order_by(knowledge_items.c.id)
            )
        )
        if not rows:
            return []
        texts: dict[int, dict[str, StoredText]] = defaultdict(dict)
        for row in await self.connection.execute(
            select(knowledge_texts).where(knowledge_texts.c.item_id.in_([row.id for row in rows]))
        ):
            texts[row.item_id][row.language] = StoredText(
                row.language, row.title, row.summary, row.body, row.version, row.changed_by, row.changed_at
            )
        return [
            Item(
                id=row.id,
                kind=Kind(row.kind),
                key=row.key or "",
                audience=Audience(row.audience),
                published=bool(row.published),
                perspectives=tuple(row.perspectives),
                districts=tuple(row.districts),
                contact=Contact(row.phone, row.url, row.address, row.hours),
                texts=texts[row.id],
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in rows
            if texts[row.id]
        ]
