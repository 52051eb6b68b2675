"""What the bot sees of a Teams turn and what it answers, without any botbuilder type.

`bot/adapter.py` turns a botbuilder Activity into an `Incoming` and a `Reply` back into an
Activity; everything behind it (router, handlers, cards) works with these plain objects: a turn's `Outcome`, and
`SendFailed` when Teams did not take a message (the adapter raises it, the senders behind it handle it).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Kind(StrEnum):
    MESSAGE = "message"  # typed text, or an Action.Submit (then `value` holds the card data)
    CARD_ACTION = "card_action"  # Action.Execute invoke (adaptiveCard/action)
    MESSAGE_ACTION_OPEN = "message_action_open"  # a message's "..." menu opened one of the bot's dialogs (fetchTask)
    MESSAGE_ACTION = "message_action"  # that dialog submitted (composeExtension/submitAction)
    INSTALL = "install"  # the bot was added to a chat, team or channel
    OTHER = "other"


class ConversationType(StrEnum):
    PERSONAL = "personal"
    CHANNEL = "channel"
    GROUP_CHAT = "groupChat"


@dataclass(frozen=True)
class Person:
    id: str  # Teams user id (29:...)
    name: str = ""
    aad_object_id: str = ""


@dataclass(frozen=True)
class Conversation:
    id: str
    type: ConversationType = ConversationType.PERSONAL
    tenant_id: str = ""  # channelData.tenant.id
    team_id: str = ""
    channel_id: str = ""
    named_tenant_id: str = ""  # conversation.tenantId: Teams sends the tenant there too (bot.tenants)

    @property
    def root_id(self) -> str:
        return root_conversation_id(self.id)


def root_conversation_id(conversation_id: str) -> str:
    """A channel thread's conversation id is `<channel>;messageid=<post>`: the channel's own id."""
    return conversation_id.split(";messageid=")[0]


def reference_root_id(reference: dict[str, Any]) -> str:
    """The root id of the conversation a conversation reference points to (a channel's, not one of its threads)."""
    return root_conversation_id(str((reference.get("conversation") or {}).get("id", "")))


@dataclass(frozen=True)
class Quoted:
    """The Teams message a message action was started from (its `messagePayload`), as plain text: what Teams says
    it holds, which anyone in the conversation may have written."""

    text: str  # the message's body as plain text (Teams sends HTML)
    author: Person  # id and aad_object_id: the author's AAD object id (Teams gives no 29: id here)
    link: str = ""  # linkToMessage: opens the message in Teams
    sent: str = ""  # createdDateTime, as Teams wrote it


@dataclass(frozen=True)
class Incoming:
    kind: Kind
    activity_id: str
    conversation: Conversation
    sender: Person
    text: str = ""  # mentions already removed
    value: dict[str, Any] | None = None  # card data (Action.Submit / Action.Execute), as sent: the router parses it
    verb: str = ""  # Action.Execute verb
    reply_to_id: str = ""  # the card message an action came from
    locale: str = "en-US"
    timezone: str = ""  # IANA name from Teams' clientInfo entity, when Teams sends it
    reference: dict[str, Any] = field(default_factory=dict)  # serialized conversation reference
    mentions: tuple[Person, ...] = ()  # people @mentioned in the text (not the bot), shown there as `@Name`
    quoted: Quoted | None = None  # a message action's message (MESSAGE_ACTION_OPEN, MESSAGE_ACTION)

    @property
    def is_invoke(self) -> bool:
        """Teams waits for this turn's answer in the HTTP response (a card's button, a message action's dialog)."""
        return self.kind in (Kind.CARD_ACTION, Kind.MESSAGE_ACTION_OPEN, Kind.MESSAGE_ACTION)

    @property
    def dedupe_key(self) -> str:
        return f"{self.conversation.id}:{self.activity_id}"


@dataclass(frozen=True)
class Reply:
    """One message to show: text, an Adaptive Card, or both."""

    text: str = ""
    card: dict[str, Any] | None = None
    private: bool = False  # for whoever asked only (a refusal, a kept command): never posted where others read


class RosterUnavailable(Exception):
    """Teams' roster could not be read (the member lookup failed: 404, throttled, Entra unreachable)."""


class TeamsChannel(Protocol):
    """What a handler may ask of Teams during a turn (implemented by the adapter)."""

    async def send(self, reply: Reply) -> str:
        """Post a message in the turn's conversation; returns the new activity id."""
        ...

    async def member_email(self, person: Person) -> str | None:
        """The email / userPrincipalName Teams' roster gives for a member of this conversation (None: it gives none);
        raises RosterUnavailable when the roster cannot be read."""
        ...


class SendFailed(Exception):
    """The Bot Connector did not take a message: `status` None means no answer at all."""

    def __init__(self, status: int | None, retry_after: float | None) -> None:
        super().__init__(f"Teams refused the message (HTTP {status})" if status else "Teams did not answer")
        self.status = status
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        """Refused before anything was posted (429 throttling, 412 busy, 503 unavailable): safe to send again."""
        return self.status in (412, 429, 503)

    @property
    def ambiguous(self) -> bool:
        """A server or gateway error (500, 502, 504...) or no answer: the message may have been posted
        (Teams can take it and fail the answer); never blindly re-post."""
        return self.status is None or (self.status >= 500 and self.status != 503)


@dataclass(frozen=True)
class Outcome:
    """What the bot answers to one turn: messages to post, and for a card action the card to show."""

    replies: tuple[Reply, ...] = ()
    card: dict[str, Any] | None = None  # Action.Execute: replaces the card in place; a message action: the dialog's
    message: str = ""  # an invoke answered without a card: what the client shows instead (a short message)


TurnHandler = Callable[[Incoming, TeamsChannel], Coroutine[Any, Any, Outcome]]  # runs a turn: what the bot answers
