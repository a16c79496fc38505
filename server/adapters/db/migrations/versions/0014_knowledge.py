"""knowledge bank: items, their texts per language, every version, full-text search; message cards

Articles, resources, canned answers and danger words (docs/knowledge.md). On SQLite an FTS5 table
(tokenizer unicode61 remove_diacritics 2) mirrors knowledge_texts through triggers, so search is
in step inside every transaction; on PostgreSQL a GIN index on to_tsvector('simple', ...) serves
the same search. A message may carry a resource card (``card``), encrypted like its text.

Revision ID: 0014_knowledge
Revises: 0013_retention_sweeps
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_knowledge"
down_revision: str | Sequence[str] | None = "0013_retention_sweeps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(item_id UNINDEXED, language UNINDEXED, title, "
    "summary, body, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER knowledge_texts_fts_insert AFTER INSERT ON knowledge_texts BEGIN "
    "INSERT INTO knowledge_fts (item_id, language, title, summary, body) "
    "VALUES (new.item_id, new.language, new.title, new.summary, new.body); END",
    "CREATE TRIGGER knowledge_texts_fts_delete AFTER DELETE ON knowledge_texts BEGIN "
    "DELETE FROM knowledge_fts WHERE item_id = old.item_id AND language = old.language; END",
    "CREATE TRIGGER knowledge_texts_fts_update AFTER UPDATE ON knowledge_texts BEGIN "
    "DELETE FROM knowledge_fts WHERE item_id = old.item_id AND language = old.language; "
    "INSERT INTO knowledge_fts (item_id, language, title, summary, body) "
    "VALUES (new.item_id, new.language, new.title, new.summary, new.body); END",
)
POSTGRES_INDEX = (
    "CREATE INDEX ix_knowledge_texts_search ON knowledge_texts USING gin "
    "(to_tsvector('simple', title || ' ' || summary || ' ' || body))"
)


def upgrade() -> None:
    op.create_table(
        "knowledge_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("perspectives", sa.JSON(), nullable=False),
        sa.Column("districts", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("hours", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_items")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_knowledge_items_kind_key")),
    )
    op.create_index(
        "ix_knowledge_items_kind_published", "knowledge_items", ["kind", "published"], unique=False
    )
    op.create_table(
        "knowledge_texts",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["knowledge_items.id"],
            name=op.f("fk_knowledge_texts_item_id_knowledge_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["staff_users.id"],
            name=op.f("fk_knowledge_texts_changed_by_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("item_id", "language", name=op.f("pk_knowledge_texts")),
    )
    op.create_table(
        "knowledge_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["knowledge_items.id"],
            name=op.f("fk_knowledge_versions_item_id_knowledge_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["staff_users.id"],
            name=op.f("fk_knowledge_versions_changed_by_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_versions")),
        sa.UniqueConstraint(
            "item_id", "language", "version", name=op.f("uq_knowledge_versions_item_id_language_version")
        ),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("card", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute(POSTGRES_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE knowledge_fts")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("card")
    op.drop_table("knowledge_versions")
    op.drop_table("knowledge_texts")
    op.drop_index("ix_knowledge_items_kind_published", table_name="knowledge_items")
    op.drop_table("knowledge_items")
