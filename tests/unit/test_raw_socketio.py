"""Frame decoding and encoding of the load generator's lean Socket.IO client (bench/raw_socketio.py)."""

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import socketio


def load_bench_module(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


raw = load_bench_module("raw_socketio")
Packet = raw.Packet


def test_open_packet() -> None:
    frame = '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
    packet = raw.decode(frame)
    assert packet.kind == raw.OPEN
    assert packet.data["sid"] == "abc"
    assert packet.data["pingInterval"] == 25000
    assert packet.data["pingTimeout"] == 20000


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("2", Packet("2", None, None, None)),
        ("1", Packet("1", None, None, None)),
        ("6", Packet("6", None, None, None)),
        ("2probe", Packet("2", None, None, "probe")),
    ],
)
def test_engine_packets(frame: str, expected: object) -> None:
    assert raw.decode(frame) == expected


def test_connect_ok() -> None:
    assert raw.decode('40/relative,{"sid":"xyz"}') == Packet("40", "/relative", None, {"sid": "xyz"})


def test_connect_ok_in_the_main_namespace() -> None:
    assert raw.decode('40{"sid":"xyz"}') == Packet("40", "/", None, {"sid": "xyz"})


def test_connect_error() -> None:
    frame = '44/counsellor,{"message":"Connection rejected by server","data":{"code":"not_authenticated"}}'
    packet = raw.decode(frame)
    assert packet.kind == raw.CONNECT_ERROR
    assert packet.namespace == "/counsellor"
    assert packet.data["data"] == {"code": "not_authenticated"}


def test_namespace_disconnect() -> None:
    assert raw.decode("41/relative,") == Packet("41", "/relative", None, None)
    assert raw.decode("41/relative") == Packet("41", "/relative", None, None)


def test_event_without_ack_id() -> None:
    frame = '42/relative,["message",{"seq":7,"text":"hej, 12"}]'
    assert raw.decode(frame) == Packet("42", "/relative", None, ["message", {"seq": 7, "text": "hej, 12"}])


def test_event_with_ack_id() -> None:
    frame = '42/counsellor,1234["claim",{"conversation_id":"c1"}]'
    assert raw.decode(frame) == Packet("42", "/counsellor", 1234, ["claim", {"conversation_id": "c1"}])


def test_event_in_the_main_namespace_with_ack_id() -> None:
    assert raw.decode('425["ping",1]') == Packet("42", "/", 5, ["ping", 1])


def test_ack() -> None:
    frame = '43/relative,12[{"ok":true,"message":{"seq":3}}]'
    assert raw.decode(frame) == Packet("43", "/relative", 12, [{"ok": True, "message": {"seq": 3}}])


def test_encode_connect() -> None:
    frame = raw.encode_connect("/relative", {"token": "t", "after_seq": 0})
    assert frame.startswith("40/relative,")
    assert json.loads(frame.removeprefix("40/relative,")) == {"token": "t", "after_seq": 0}
    assert raw.encode_connect("/counsellor") == "40/counsellor,"
    assert raw.encode_connect("/") == "40"


def test_encode_emit() -> None:
    frame = raw.encode_event("/relative", "send_message", {"client_id": "u", "text": "a,b"})
    assert frame == '42/relative,["send_message",{"client_id":"u","text":"a,b"}]'
    assert raw.decode(frame) == Packet(
        "42", "/relative", None, ["send_message", {"client_id": "u", "text": "a,b"}]
    )


def test_encode_emit_with_ack_id() -> None:
    frame = raw.encode_event("/counsellor", "claim", {"conversation_id": "c1"}, 42)
    assert frame == '42/counsellor,42["claim",{"conversation_id":"c1"}]'
    assert raw.decode(frame).ack_id == 42


def test_encode_ack_and_disconnect() -> None:
    assert raw.encode_ack("/relative", 3, [{"ok": True}]) == '43/relative,3[{"ok":true}]'
    assert raw.encode_ack("/relative", 4, raw.ack_arguments(None)) == "43/relative,4[]"
    assert raw.ack_arguments((1, 2)) == [1, 2]
    assert raw.encode_disconnect("/relative") == "41/relative,"


def test_websocket_url() -> None:
    assert (
        raw.websocket_url("http://127.0.0.1:8080/")
        == "ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket"
    )
    assert raw.websocket_url("https://example.org").startswith("wss://example.org/socket.io/")


def test_disconnect_reasons_match_python_socketio() -> None:
    """chat_load.py tells a client's own disconnects apart the same way with either client."""
    assert raw.Reason.CLIENT_DISCONNECT == socketio.AsyncClient.reason.CLIENT_DISCONNECT
    assert raw.Reason.SERVER_DISCONNECT == socketio.AsyncClient.reason.SERVER_DISCONNECT
    assert raw.Reason.TRANSPORT_ERROR == socketio.AsyncClient.reason.TRANSPORT_ERROR
