"""The SQL adapters implement the ports: every method a port names exists on its adapter with the
same parameters. (mypy checks the types through ``server.adapters.db.unit_of_work``.)"""

from __future__ import annotations

import inspect

import pytest

from server.adapters.db.booking.outbox import OutboxStore
from server.adapters.db.booking_store import BookingStore
from server.adapters.db.chat_store import ChatStore
from server.adapters.db.escalation_store import EscalationStore
from server.adapters.db.knowledge_store import KnowledgeStore
from server.adapters.db.record_store import RecordStore
from server.adapters.db.retention_store import RetentionStore
from server.adapters.db.staff_store import StaffStore
from server.adapters.db.unit_of_work import SqlRepositories, SqlUnitOfWork
from server.adapters.sms.outbox import OutboxSmsSender
from server.adapters.sms.twilio import TwilioSmsSender
from server.services.ports.audit import AuditRepository
from server.services.ports.booking import BookingRepository
from server.services.ports.chat import ChatRepository
from server.services.ports.escalation import EscalationRepository
from server.services.ports.knowledge import KnowledgeRepository
from server.services.ports.records import RecordRepository
from server.services.ports.retention import RetentionRepository
from server.services.ports.sms import SmsGateway
from server.services.ports.staff import StaffRepository
from server.services.ports.texts import OutboxRepository, TextRepository
from server.services.ports.unit_of_work import Repositories, UnitOfWork


def port_methods(port: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for klass in port.__mro__
        if klass is not object and getattr(klass, "_is_protocol", False)
        for name, member in vars(klass).items()
        if not name.startswith("_") and callable(member)
    }


@pytest.mark.parametrize(
    ("adapter", "port"),
    [
        (ChatStore, ChatRepository),
        (StaffStore, StaffRepository),
        (StaffStore, AuditRepository),
        (BookingStore, BookingRepository),
        (BookingStore, TextRepository),
        (OutboxStore, OutboxRepository),
        (EscalationStore, EscalationRepository),
        (RecordStore, RecordRepository),
        (RetentionStore, RetentionRepository),
        (KnowledgeStore, KnowledgeRepository),
        (SqlUnitOfWork, UnitOfWork),
        (OutboxSmsSender, SmsGateway),
        (TwilioSmsSender, SmsGateway),
    ],
)
def test_the_adapter_has_every_method_of_its_port(adapter: type, port: type) -> None:
    methods = port_methods(port)
    assert methods
    for name, signature in methods.items():
        assert hasattr(adapter, name), f"{adapter.__name__} lacks {name}"
        assert list(inspect.signature(getattr(adapter, name)).parameters) == list(signature.parameters), name


def test_the_repositories_of_a_transaction_are_the_ports() -> None:
    properties = {name for name, member in vars(Repositories).items() if isinstance(member, property)}
    assert properties == {
        "chat",
        "staff",
        "booking",
        "outbox",
        "escalations",
        "records",
        "retention",
        "knowledge",
    }
    assert properties <= set(SqlRepositories.__dataclass_fields__)
