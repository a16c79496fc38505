"""The socket JSON codec reads every payload as python-engineio's default did and writes the
same JSON values."""

from __future__ import annotations

import json

import pytest
from engineio import json as engineio_json
from hypothesis import given
from hypothesis import strategies as st

from server.transports.sockets import json_codec

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_written_text_reads_back_as_the_same_value(value: object) -> None:
    text = json_codec.dumps(value, separators=(",", ":"))
    assert json.loads(text) == value
    assert json_codec.loads(text) == value


@given(json_values)
def test_reads_what_the_default_codec_writes(value: object) -> None:
    text = json.dumps(value)
    assert json_codec.loads(text) == engineio_json.loads(text)


def test_output_is_compact() -> None:
    assert json_codec.dumps({"a": [1, None, "é"]}, separators=(",", ":")) == '{"a":[1,null,"é"]}'


def test_a_lone_surrogate_is_still_written() -> None:
    assert json.loads(json_codec.dumps(["\ud800"])) == ["\ud800"]


def test_integers_of_more_than_100_digits_are_refused_as_before() -> None:
    assert json_codec.loads("9" * 100) == int("9" * 100)
    with pytest.raises(ValueError):
        json_codec.loads("9" * 101)
    with pytest.raises(ValueError):
        engineio_json.loads("9" * 101)


def test_malformed_text_raises_value_error() -> None:
    with pytest.raises(ValueError):
        json_codec.loads("{bad")
