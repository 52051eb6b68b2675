"""The words the bot writes in Odoo's chatter, in one place: the handlers and services write their notes with
them, and the ticket's story is read back by them (bot.insights.timeline: the post-mortem, service levels, the
management cards; bot.escalation.rebuild). Changing a wording here changes both sides.

Notes stay in English whatever language the agent speaks: the chatter is the team's shared record, and the
reading depends on these words. A customer-visible message is written in the customer's language, so the step
it stands for is also hidden in it (`RESOLVED_STEP`), to be recognised whatever its words.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from bot.i18n import N_

BOT_AUTHOR = "Support bot"  # who signs what the bot writes on its own (a reminder to the customer, an automatic close)

DIAGNOSIS = "Diagnosis:"  # heading of the notes `/ticket diag` writes (escalation cards quote them)

# "<prefix>: <reason>", written by bot/handlers/flow.py
ON_HOLD = "On hold"
WAITING_FOR_CUSTOMER = "Waiting for the customer"
CANCELLED = "Cancelled"
REOPENED = "Reopened"
CLOSED_UNCONFIRMED = "Closed WITHOUT customer confirmation"
RESUMED = "Resumed"  # "Resumed (was On Hold). ..."

RESOLUTION_QUESTION = "Could you please confirm that everything works"  # ends the message `/ticket resolve` sends
RESOLVED_STEP = "teams-step:resolved"  # hidden in every message that carries the resolution (a draft, any language)
CONFIRMED = "Customer confirmed the resolution"  # `/ticket confirm`
AUTO_CLOSED = "Closed by the support bot"  # bot/reminders/nags.py: no answer from the customer, the process rule
SNOOZED = "Reminders snoozed"  # bot/handlers/setup.py: "Reminders snoozed for 2h."

# bot/escalation/service.py: "Escalated to the Dev team: <impact>"; "Escalation not acknowledged in time by the
# Dev team: passed on to the Senior engineers." or "...: nobody further up the chain to pass it to."
ON_STANDBY = "On standby: "  # bot/escalation/standby.py: "On standby: Dev team: <why>" (no acknowledgment clock)
ESCALATED = "Escalated to the "
NOT_ACKNOWLEDGED = "Escalation not acknowledged in time by the "
PASSED_TO = "passed on to the "
END_OF_CHAIN = "nobody further up the chain to pass it to"


class AnswerVerb(StrEnum):
    """What a team did, as the note of its answer on an escalation card says it (bot/escalation/service.py: "Ann
    (Dev team) acknowledged the escalation of HD-42: ..."; the answer each verb stands for:
    bot.escalation.model.DONE_WORDS). Marked N_: a review that quotes them translates them."""

    ACKNOWLEDGED = N_("acknowledged")
    NEEDS_INFO = N_("needs more information on")
    RESOLVED = N_("resolved")
    DECLINED = N_("declined")


ESCALATION_TAG = "escalation:"  # what notes about escalations hide in their html: `<!-- escalation:42-1a2b...-dev -->`


def escalation_tag(ids: Iterable[str]) -> str:
    """The comment a note about these escalations carries (in the order the note names their teams): their ids,
    so that a rebuild from Odoo after Redis lost them gives them back under the same ids, and the cards already in
    the channels keep working."""
    return ESCALATION_TAG + " ".join(ids)


def tagged_escalations(hidden: Iterable[str]) -> list[str]:
    """The escalation ids among a chatter message's hidden comments (`escalation_tag`); [] in notes written
    without."""
    for comment in hidden:
        if comment.startswith(ESCALATION_TAG):
            return comment.removeprefix(ESCALATION_TAG).split()
    return []

POSTMORTEM_HEADING = "# Post-mortem"  # the post-mortem's own note, left out of later post-mortems


def resolution(text: str, *, ask_to_confirm: bool = True) -> str:
    """The message `/ticket resolve` sends the customer: the fix, and the question that asks them to confirm (not
    where the process closes a resolved ticket at once: TMF's Done)."""
    return f"{text}\n\n{RESOLUTION_QUESTION} for you now?" if ask_to_confirm else text
