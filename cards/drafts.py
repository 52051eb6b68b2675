"""The card showing an e-mail draft (`/ticket email`) with Post and Edit, and the management summary as it
is posted in the management channel. Pure functions; the card's own words are in the reader's language,
the draft in its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.drafts.model import (
    MAX_SUBJECT,
    MAX_TEXT,
    SUBJECT_INPUT,
    TEXT_INPUT,
    Draft,
    DraftAction,
    DraftClick,
    DraftState,
    Recipient,
    fill_ins,
)
from bot.i18n import N_, tr
from bot.privacy import for_management
from bot.wording import literal, when
from cards.elements import Element, card, facts, open_url, text, text_input

LANGUAGE_NAMES = {"en": N_("English"), "vi": N_("Vietnamese")}


def _button(title: str, verb: DraftAction, draft_id: str, *, style: str | None = None) -> Element:
    """Action.Execute (Universal Actions), falling back to Action.Submit on clients without it."""
    data = DraftClick.on_buttons(draft_id)
    action: Element = {"type": "Action.Execute", "title": title, "verb": verb.value, "data": data,
                       "fallback": {"type": "Action.Submit", "title": title, "data": {**data, "verb": verb.value}}}
    if style:
        action["style"] = style
    return action


def _lines(value: str) -> list[Element]:
    """The draft as it will read: one block per line (Teams folds single line breaks), a gap between paragraphs."""
    blocks: list[Element] = []
    gap = False
    for line in value.splitlines():
        if not line.strip():
            gap = True
            continue
        blocks.append(text(literal(line), spacing="Medium" if gap else "None"))
        gap = False
    return blocks


def _recipient(draft: Draft) -> str:
    if draft.rules.recipient is Recipient.MANAGEMENT:
        return tr("the management channel")
    return literal(draft.recipient) if draft.recipient else tr("the ticket's followers (the ticket has no customer)")


def draft_card(draft: Draft, *, tz: ZoneInfo, now: datetime, notice: str = "") -> dict[str, Any]:
    """`notice`: said to the person who clicked (e.g. "already posted by ..."), above the rest; a name in it
    is to be `literal` already. The draft's own text is shown literally: it is what will be sent."""
    name = LANGUAGE_NAMES.get(draft.language)
    language = tr(name) if name else draft.language
    body: list[Element] = [text(notice, color="attention", weight="Bolder")] if notice else []
    body += [
        text(tr("Draft {kind} for {recipient}", kind=tr(draft.rules.label), recipient=_recipient(draft)),
             size="Large", weight="Bolder"),
        text(f"{draft.ticket_label} · {literal(draft.ticket_title)}", subtle=True, spacing="None"),
        facts([(tr("Subject"), draft.subject), (tr("Language"), language)]),
        {"type": "Container", "style": "emphasis", "items": _lines(draft.text)},
    ]
    posted = draft.state is DraftState.POSTED
    if posted:
        body.append(text(tr("Posted to {recipient} by {who}, {when}.", recipient=_recipient(draft),
                            who=literal(draft.posted_by), when=when(draft.posted_at, tz, now)), color="good",
                         weight="Bolder"))
    blanks = fill_ins(draft.text)
    if blanks and not posted:
        body.append(text(tr("Before posting, write {parts}: use Fill in and post.", parts=literal(", ".join(blanks))),
                         color="warning"))
    actions: list[Element] = []
    if not posted and blanks:  # the draft as it stands cannot be posted: only once its blanks are written
        actions.append(_edit(draft, title=tr("Fill in and post")))
    elif not posted:
        post_title = tr("Post to management channel") if draft.rules.recipient is Recipient.MANAGEMENT else \
            tr("Post to customer")
        actions += [_button(post_title, DraftAction.POST, draft.id, style="positive"), _edit(draft, title=tr("Edit"))]
    if draft.url:
        actions.append(open_url(tr("Open the ticket in Odoo"), draft.url))
    return card(body, actions or None)


def _edit(draft: Draft, *, title: str) -> Element:
    """Edit: the draft in text boxes, and a button that posts what is in them."""
    subject = {**text_input(SUBJECT_INPUT, tr("Subject"), max_length=MAX_SUBJECT), "value": draft.subject}
    body = {**text_input(TEXT_INPUT, tr("Text"), multiline=True, required=True, max_length=MAX_TEXT),
            "value": draft.text}
    return {"type": "Action.ShowCard", "title": title, "card": card(
        [subject, body], [_button(tr("Post the edited text"), DraftAction.POST_EDITED, draft.id, style="positive")])}


def management_post_card(draft: Draft, *, by: str) -> dict[str, Any]:
    """The management summary as the management channel reads it: its words through `bot.privacy` (no personal
    data, no technical detail) and no link into Odoo, like everything management reads."""
    body: list[Element] = [
        text(literal(for_management(draft.subject or draft.ticket_title)) or draft.ticket_label, size="Large",
             weight="Bolder"),
        text(tr("{ticket} · sent by {who}", ticket=draft.ticket_label, who=literal(by)), subtle=True, spacing="None"),
        *_lines(for_management(draft.text)),
    ]
    return card(body)
