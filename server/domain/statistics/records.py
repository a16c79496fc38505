"""The contact record: one anonymous row per ended contact, and the rules that fill it in.

A record holds no id of its source, no time finer than the ISO week, no staff member and no free
text: only the categories below, each from a closed list in config."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from server.domain.errors import InvalidInput


class Channel(enum.StrEnum):
    CHAT = "chat"
    PHONE = "phone"
    VISIT = "visit"
    GROUP = "group"


class Survey(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    SKIPPED = "skipped"


# Outcomes of records that are not a conversation's own outcome.
ATTENDED = "attended"
NO_SHOW = "no_show"
ESCALATION_CLOSED = "escalation_closed"


# The defaults of ``[statistics]`` in config/default.toml.
PERSPECTIVES = ("promotion", "prevention", "support_relatives", "exit")
DEFAULT_PERSPECTIVE = "support_relatives"
TOPIC_PERSPECTIVES: Mapping[str, str] = {
    "worried_about_someone": "support_relatives",
    "leaving_myself": "exit",
    "affected": "support_relatives",
    "professional": "prevention",
}
MILIEUS = ("left_autonomous", "right_wing", "islamist", "other", "not_known")
KIND_CHANNELS: Mapping[str, Channel] = {
    "phone": Channel.PHONE,
    "visit": Channel.VISIT,
    "group": Channel.GROUP,
}
# The topic of a record whose source had none (an appointment booked without a chat).
NO_TOPIC = "none"


@dataclass(frozen=True)
class ContactRecord:
    week: str
    route: str
    language: str
    topic: str
    perspective: str
    milieu: str | None
    outcome: str
    duration_bucket: str
    channel: Channel
    escalation_kind: str | None
    came_back: bool
    survey: Survey | None = None


@dataclass(frozen=True)
class StatisticsRules:
    """From ``[statistics]``: the perspectives, each topic's perspective, the milieu tags, and
    the channel of each appointment kind (a kind not named is a phone call)."""

    perspectives: tuple[str, ...] = PERSPECTIVES
    topic_perspectives: Mapping[str, str] = field(default_factory=lambda: dict(TOPIC_PERSPECTIVES))
    milieus: tuple[str, ...] = MILIEUS
    kind_channels: Mapping[str, Channel] = field(default_factory=lambda: dict(KIND_CHANNELS))
    default_channel: Channel = Channel.PHONE
    default_perspective: str = DEFAULT_PERSPECTIVE

    def perspective_for(self, topic: str, confirmed: str | None = None) -> str:
        """The perspective a counsellor confirmed, else the topic's."""
        if confirmed is not None:
            if confirmed not in self.perspectives:
                raise InvalidInput(
                    f"perspective must be one of {list(self.perspectives)}", code="unknown_perspective"
                )
            return confirmed
        return self.topic_perspectives.get(topic, self.default_perspective)

    def check_milieu(self, milieu: str | None) -> str | None:
        if milieu is not None and milieu not in self.milieus:
            raise InvalidInput(f"milieu must be one of {list(self.milieus)}", code="unknown_milieu")
        return milieu

    def channel_for(self, kind: str) -> Channel:
        return self.kind_channels.get(kind, self.default_channel)


def parse_survey(answer: str) -> Survey:
    try:
        return Survey(answer)
    except ValueError:
        raise InvalidInput(
            f"answer must be one of {[s.value for s in Survey]}", code="unknown_answer"
        ) from None
