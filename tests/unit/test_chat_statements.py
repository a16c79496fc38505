"""The chat's hot statements compile to SQLite's SQL only with their parameters named in order."""

from __future__ import annotations

import pytest

from server.adapters.db import chat_statements as statements
from server.adapters.db.chat_statements import sqlite_text


def test_a_statement_compiles_with_its_parameters_in_order() -> None:
    sql = sqlite_text(statements.MESSAGE_BY_CLIENT_ID, "conversation_id", "client_id")
    assert sql.count("?") == 2
    assert "messages.conversation_id = ?" in sql


def test_parameters_in_another_order_are_refused() -> None:
    with pytest.raises(ValueError, match="takes"):
        sqlite_text(statements.MESSAGE_BY_CLIENT_ID, "client_id", "conversation_id")
