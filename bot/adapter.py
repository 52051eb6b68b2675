"""The only module that imports botbuilder: Teams activities in, `Reply` objects out.

Moving to the Microsoft 365 Agents SDK later means rewriting this module and nothing else.
Known botbuilder 4.17.1 pitfalls handled here:
- an invoke response body must be a msrest model (a dict is serialized twice -> HTTP 500);
- `conversation.tenant_id` is never filled (it reads `tenantID`; Teams sends `conversation.tenantId`, and
  `channelData.tenant.id`: both are read), nor kept in a conversation reference: `Incoming.reference` gets it back
  (`conversation.tenantId`), for Teams' budget per tenant (bot.notify);
- token validation raises PyJWT / lookup errors, not PermissionError: every failure is a 401;
- msrest builds the retry policy of every Bot Connector client (one or two per message sent) by testing 999
  status codes against a 500-item list, 7 ms each time: a third of the bot's CPU under load. The list is
  made a set below (the same codes).
- msrest "serializes" a card (an attachment's `object` content) by walking it value by value into the same
  JSON, and botbuilder deep-copies every activity it sends: for a card of a few hundred elements, more CPU
  than the rest of the turn (bench/turns.py). A card goes out as `_Card`, JSON already, which both take as is.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
    ConversationReference,
)
from botbuilder.schema.teams import (
    MessagingExtensionActionResponse,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleTaskInfo,
)
from msrest.exceptions import ClientRequestError, HttpOperationError
from msrest.serialization import Serializer
from msrest.universal_http.requests import ClientRetryPolicy

from bot import edge
from bot.i18n import speaking, tr
from bot.settings import Settings
from bot.turn import (
    Conversation,
    ConversationType,
    Incoming,
    Kind,
    Outcome,
    Person,
    Quoted,
    Reply,
    RosterUnavailable,
    SendFailed,
    TurnHandler,
)

logger = logging.getLogger(__name__)
logging.getLogger("msrest.serialization").setLevel(logging.ERROR)  # noisy about Teams-only fields
ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]  # see above



class _Card(dict[str, Any]):
    """A card as it goes out: JSON data already (cards/ builds it of dicts, lists, strings, numbers and booleans),
    and nothing changes it once it is sent, so msrest's serializer takes it as it is and botbuilder's deep copy of
    the activity shares it (see above)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Card:
        return self


_serialize_object = Serializer.serialize_object


def _card_as_is(self: Serializer, attr: Any, **kwargs: Any) -> Any:
    return attr if type(attr) is _Card else _serialize_object(self, attr, **kwargs)


Serializer.serialize_object = _card_as_is  # type: ignore[method-assign]  # see above

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def _retry_after(headers: Any) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class _AuthConfig:
    """The attribute names botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TYPE = settings.app_type
        self.APP_TENANTID = settings.app_tenant_id


class TeamsTurn:
    """`TeamsChannel` for one turn: posts in the turn's conversation, asks Teams about members."""

    def __init__(self, context: TurnContext) -> None:
        self._context = context

    async def send(self, reply: Reply) -> str:
        response = await self._context.send_activity(to_activity(reply))
        return response.id if response and response.id else ""

    async def member_email(self, person: Person) -> str | None:
        try:
            member = await TeamsInfo.get_member(self._context, person.id)
        except Exception as error:  # Teams may refuse the roster lookup (guest, bot not in team)
            logger.warning("member lookup failed: %s", type(error).__name__)
            raise RosterUnavailable from error
        return getattr(member, "email", None) or getattr(member, "user_principal_name", None)


# botbuilder sends to the Bot Connector with `requests`, each call in a thread of the event loop's
# default executor (min(32, CPUs + 4) threads: 6 on a 2-CPU machine). A throttling or slow Bot Connector
# would hold them all, and every other post (and the chart drawn off the loop) would queue behind.
BOT_CONNECTOR_THREADS = 32


def give_bot_connector_threads() -> None:
    """Call once on the running loop, before the first post."""
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(BOT_CONNECTOR_THREADS, thread_name_prefix="bot-connector"))


class TeamsAdapter:
    def __init__(self, settings: Settings, on_turn: TurnHandler) -> None:
        self._auth = ConfigurationBotFrameworkAuthentication(_AuthConfig(settings))
        self._adapter = CloudAdapter(self._auth)
        self._adapter.on_turn_error = self._on_turn_error
        self._on_turn = on_turn
        self._app_id = settings.app_id

    async def handle(self, request: web.Request) -> web.Response:
        """POST /api/messages: authenticate, run the turn, answer (invokes synchronously)."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415, text="expected application/json")
        try:  # before the token: anyone can send anything here (bot.edge)
            activity = Activity().deserialize(edge.parse(await request.read()))
        except edge.Malformed as problem:
            return _malformed(str(problem))
        except Exception as error:  # msrest refusing what bot.edge let through: still the sender's doing
            return _malformed(f"not an activity ({type(error).__name__})")
        try:
            # None (not "") when absent: botbuilder treats only None as "no header" when auth is off.
            auth = await self._auth.authenticate_request(activity, request.headers.get("Authorization"))
        except Exception as error:  # PermissionError, PyJWT errors, unknown signing key...
            logger.warning("rejected an unauthenticated request: %s", type(error).__name__)
            return web.Response(status=401, text="unauthorized")
        invoke = await self._adapter.process_activity(auth, activity, self._turn)
        if invoke is not None:
            body = invoke.body.serialize() if hasattr(invoke.body, "serialize") else invoke.body
            return web.json_response(body, status=invoke.status)
        return web.Response(status=201 if activity.type == ActivityTypes.message else 200)

    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str:
        """Post proactively into a conversation the bot has seen before (nags, escalations).

        Raises SendFailed with Teams' status (and Retry-After) when the Bot Connector refuses."""
        return await self._proactive(reference, reply)

    async def update_in(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> str:
        """Replace a message the bot posted (an escalation card after an answer), for everyone."""
        return await self._proactive(reference, reply, activity_id)

    async def _proactive(self, reference: dict[str, Any], reply: Reply, activity_id: str = "") -> str:
        sent: list[str] = []
        failed: list[SendFailed] = []
        activity = to_activity(reply)
        if activity_id:
            activity.id = activity_id
        tenant = str((reference.get("conversation") or {}).get("tenantId") or "")
        if tenant:  # Teams' way of naming the tenant of a proactive message (botbuilder drops conversation.tenantId)
            activity.channel_data = {"tenant": {"id": tenant}}

        async def post(context: TurnContext) -> None:  # errors are caught here: botbuilder would swallow them
            try:
                if activity_id:
                    response = await context.update_activity(activity)
                else:
                    response = await context.send_activity(activity)
            except HttpOperationError as error:
                failed.append(SendFailed(error.response.status_code, _retry_after(error.response.headers)))
                return
            except ClientRequestError:  # no answer at all: the post may or may not have happened
                failed.append(SendFailed(None, None))
                return
            sent.append(response.id if response and response.id else "")

        await self._adapter.continue_conversation(ConversationReference().deserialize(reference), post,
                                                  self._app_id or None)
        if failed:
            raise failed[0]
        return sent[0] if sent else ""

    async def _turn(self, context: TurnContext) -> None:
        incoming = to_incoming(context.activity)
        outcome = await self._on_turn(incoming, TeamsTurn(context))
        for reply in outcome.replies:
            try:
                await context.send_activity(to_activity(reply))
            except HttpOperationError as error:
                if not incoming.is_invoke:
                    raise
                # a message action in a chat the bot is no member of: Teams refuses the post (403); the dialog
                # showed the answer to whoever asked
                logger.warning("could not post a message action's answer in its conversation (HTTP %s)",
                               error.response.status_code)
        if incoming.is_invoke:
            with speaking(incoming.locale):
                body = _invoke_body(outcome) if incoming.kind is Kind.CARD_ACTION else _dialog_body(outcome)
            await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=body))

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        logger.exception("unhandled error in a turn", exc_info=error)
        if context.activity.type == ActivityTypes.message:
            with speaking(context.activity.locale):
                sorry = tr("Sorry, something went wrong on my side. Please try again.")
            await context.send_activity(sorry)


def _malformed(problem: str) -> web.Response:
    logger.warning("refused a malformed activity: %s", problem)
    return web.Response(status=400, text=f"malformed activity: {problem}")


def _invoke_body(outcome: Outcome) -> InvokeResponse:
    if outcome.card is not None:
        body = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=_Card(outcome.card))
    else:
        body = AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.activity.message",
                                          value={"text": outcome.message or tr("Done.")})  # type: ignore[arg-type]
    return InvokeResponse(status=200, body=body)


def _dialog_body(outcome: Outcome) -> InvokeResponse:
    """A message action's answer: its dialog showing the card (opened, or shown again after a submit), or closed
    with a short message."""
    if outcome.card is not None:
        task: TaskModuleContinueResponse | TaskModuleMessageResponse = TaskModuleContinueResponse(
            value=TaskModuleTaskInfo(title=_dialog_title(outcome.card), width="medium", height="large",
                                     card=Attachment(content_type=CARD_CONTENT_TYPE, content=_Card(outcome.card))))
    else:
        task = TaskModuleMessageResponse(value=outcome.message or tr("Done."))
    return InvokeResponse(status=200, body=MessagingExtensionActionResponse(task=task))


def _dialog_title(card: dict[str, Any]) -> str:
    """The dialog's title: the card's own first line of text (a dialog's title bar takes no markdown)."""
    first = next((element for element in card.get("body", []) if element.get("type") == "TextBlock"), None)
    return str(first["text"]).replace("*", "")[:80] if first else tr("Ticket Desk")


def to_activity(reply: Reply) -> Activity:
    attachments = [Attachment(content_type=CARD_CONTENT_TYPE, content=_Card(reply.card))] if reply.card else None
    return Activity(type=ActivityTypes.message, text=reply.text or None, attachments=attachments,
                    text_format="markdown")


_INVOKES = {"adaptiveCard/action": Kind.CARD_ACTION, "composeExtension/fetchTask": Kind.MESSAGE_ACTION_OPEN,
            "composeExtension/submitAction": Kind.MESSAGE_ACTION}


def _kind(activity: Activity) -> Kind:
    if activity.type == ActivityTypes.message:
        return Kind.MESSAGE
    if activity.type == ActivityTypes.invoke and activity.name in _INVOKES:
        return _INVOKES[activity.name]
    # Teams sends both an installationUpdate and a conversationUpdate when the bot is added: welcome once,
    # on the conversationUpdate that adds the bot (an installationUpdate may also be a removal).
    if activity.type == ActivityTypes.conversation_update and activity.members_added and any(
            m.id == activity.recipient.id for m in activity.members_added):
        return Kind.INSTALL
    return Kind.OTHER


def _conversation(activity: Activity) -> Conversation:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    conv = activity.conversation
    kind = {"channel": ConversationType.CHANNEL, "groupChat": ConversationType.GROUP_CHAT}.get(
        getattr(conv, "conversation_type", None) or "", ConversationType.PERSONAL)
    return Conversation(
        id=conv.id if conv else "",
        type=kind,
        tenant_id=_id_in(data.get("tenant")),
        team_id=(data.get("team") or {}).get("id", ""),
        channel_id=(data.get("channel") or {}).get("id", ""),
        named_tenant_id=str((getattr(conv, "additional_properties", None) or {}).get("tenantId")
                            or getattr(conv, "tenant_id", None) or ""),
    )


def _id_in(value: Any) -> str:
    """`value["id"]` as text when `value` is an object with an id (client data: any shape), else ""."""
    return str(value.get("id") or "") if isinstance(value, dict) else ""


def _text_without_bot_mention(activity: Activity) -> str:
    """Remove the bot's own `<at>` mention; other mentions become `@Name`."""
    bot_names = {
        (e.additional_properties or {}).get("text", "")
        for e in activity.entities or []
        if e.type == "mention" and ((e.additional_properties or {}).get("mentioned") or {}).get("id")
        == activity.recipient.id
    }
    text = activity.text or ""
    for name in bot_names:
        if name:
            text = text.replace(name, "")

    return _MENTION.sub(lambda m: "@" + m.group(1).strip(), text).strip()


def _mentioned_people(activity: Activity) -> tuple[Person, ...]:
    people = []
    for entity in activity.entities or []:
        mentioned = (entity.additional_properties or {}).get("mentioned") or {}
        if entity.type == "mention" and mentioned.get("id") and mentioned["id"] != activity.recipient.id:
            people.append(Person(id=mentioned["id"], name=mentioned.get("name", "")))
    return tuple(people)


def _timezone(activity: Activity) -> str:
    for entity in activity.entities or []:
        if entity.type == "clientInfo":
            return str((entity.additional_properties or {}).get("timezone", "") or "")
    return ""


def to_incoming(activity: Activity) -> Incoming:
    kind = _kind(activity)
    value: dict[str, Any] | None = activity.value if isinstance(activity.value, dict) else None
    verb = ""
    quoted = None
    if kind is Kind.CARD_ACTION and value:
        sent = value.get("action")
        action: dict[str, Any] = sent if isinstance(sent, dict) else {}  # client data: any shape
        verb = str(action.get("verb") or "")
        value = action.get("data") if isinstance(action.get("data"), dict) else {}
    elif kind in (Kind.MESSAGE_ACTION_OPEN, Kind.MESSAGE_ACTION):
        sent_value = value or {}
        verb = str(sent_value.get("commandId") or "")
        quoted = _quoted(sent_value.get("messagePayload"))
        value = sent_value.get("data") if isinstance(sent_value.get("data"), dict) else {}
    sender = activity.from_property
    conversation = _conversation(activity)
    reference = TurnContext.get_conversation_reference(activity).serialize()
    tenant = conversation.tenant_id or conversation.named_tenant_id
    if tenant and isinstance(reference.get("conversation"), dict):  # botbuilder drops it: kept for Teams' tenant budget
        reference["conversation"]["tenantId"] = tenant
    return Incoming(
        kind=kind,
        activity_id=activity.id or "",
        conversation=conversation,
        sender=Person(id=sender.id if sender else "", name=(sender.name or "") if sender else "",
                      aad_object_id=(sender.aad_object_id or "") if sender else ""),
        text=_text_without_bot_mention(activity) if kind is Kind.MESSAGE else "",
        value=value,
        verb=verb,
        reply_to_id=activity.reply_to_id or "",
        locale=activity.locale or "en-US",
        timezone=_timezone(activity),
        reference=reference,
        mentions=_mentioned_people(activity),
        quoted=quoted,
    )


_BREAKS = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")


def _object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (client data: any shape)."""
    return value if isinstance(value, dict) else {}


def _quoted(payload: Any) -> Quoted | None:
    """A message action's `messagePayload` (client data: any shape) as the message it quotes; None without one."""
    if not isinstance(payload, dict):
        return None
    body, user = _object(payload.get("body")), _object(_object(payload.get("from")).get("user"))
    content = str(body.get("content") or "")
    if str(body.get("contentType") or "html").lower() == "html":
        content = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", content)))
    author_id = str(user.get("id") or "")
    return Quoted(text="\n".join(line.strip() for line in content.strip().splitlines()).strip(),
                  author=Person(id=author_id, name=str(user.get("displayName") or ""), aad_object_id=author_id),
                  link=str(payload.get("linkToMessage") or ""), sent=str(payload.get("createdDateTime") or ""))
