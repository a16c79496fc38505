"""Issue 9, finding 9: what stored free text keeps and loses (server/domain/text.py), and the one
client_id rule."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.conversations import check_text
from server.domain.errors import InvalidInput
from server.domain.text import REMOVED, ascii_integer, check_client_id, clean_text

BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
KEPT_INVISIBLES = ["\u200c", "\u200d", "\u200e", "\u200f"]


def test_exactly_the_bidi_controls_and_nul_are_removed() -> None:
    assert set(BIDI_CONTROLS) | {"\x00"} == REMOVED
    assert clean_text("abc\u202egpj.exe") == "abcgpj.exe"
    assert clean_text("a\x00b\u2066c\u2069\u202a\u202b\u202c\u202d") == "abc"


def test_joiners_and_marks_are_kept() -> None:
    persian = "می\u200cخواهم"  # the zero-width non-joiner is part of the word
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(persian) == persian
    assert clean_text(family) == family
    assert clean_text("\u200eabc\u200f") == "\u200eabc\u200f"


@given(st.text())
def test_every_other_character_comes_back_exactly_as_sent(text: str) -> None:
    assert clean_text(text) == "".join(ch for ch in text if ch not in REMOVED)


@given(st.text(alphabet=st.characters(exclude_characters=REMOVED)))
def test_text_without_the_removed_characters_is_unchanged(text: str) -> None:
    assert clean_text(text) == text


@given(st.text(alphabet=st.sampled_from([*BIDI_CONTROLS, "\x00", *KEPT_INVISIBLES, "a", "ب"])))
def test_no_removed_character_survives(text: str) -> None:
    cleaned = clean_text(text)
    assert not REMOVED & set(cleaned)
    assert [ch for ch in cleaned if ch in KEPT_INVISIBLES] == [ch for ch in text if ch in KEPT_INVISIBLES]


def test_messages_and_notes_are_cleaned_before_the_length_and_empty_checks() -> None:
    assert check_text("  hej\u202e  ", 10) == "hej"
    with pytest.raises(InvalidInput) as refused:
        check_text("\u202e\x00", 10)
    assert refused.value.code == "empty_text"


@pytest.mark.parametrize("client_id", [str(uuid.uuid4()), str(uuid.uuid4()).upper()])
def test_a_client_id_is_a_uuid_kept_as_sent(client_id: str) -> None:
    assert check_client_id(client_id) == client_id


@pytest.mark.parametrize(
    "client_id",
    [
        "",
        "m1",
        "x" * 64,
        uuid.uuid4().hex,
        f"{{{uuid.uuid4()}}}",
        f"urn:uuid:{uuid.uuid4()}",
        f"{uuid.uuid4()}\n",
    ],
)
def test_anything_else_is_refused(client_id: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_client_id(client_id)
    assert refused.value.code == "invalid_client_id"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42),
        ("0", 0),
        ("", None),
        ("²", None),
        ("١٢", None),
        ("-1", None),
        (" 1", None),
        ("9" * 19, None),
    ],
)
def test_ascii_integer_takes_ascii_digits_only(text: str, number: int | None) -> None:
    assert ascii_integer(text) == number
