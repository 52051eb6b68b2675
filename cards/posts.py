"""The one renderer of what the bot posts: a post (`bot.posts`, and each feature's `posts` module) drawn as its card,
in the language being spoken, its times in the reader's zone. Given to the services by bot.server (`Services.render`),
and used by the handlers for a post a service returns them. Pure, like every card."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.drafts.posts import ForManagement
from bot.escalation.posts import EscalationAnswered, EscalationPost, NewTicketAlert, NotAcknowledged, StandbyPost
from bot.management.posts import DigestPost, IncidentPost
from bot.posts import Post, Problem, Queued
from bot.reminders.policy import Kind, next_step
from bot.reminders.posts import NagDigestPost, NagPost
from bot.turn import Reply
from cards.drafts import management_post_card
from cards.escalation import answered_card, escalation_card, not_acknowledged_card, standby_card
from cards.management import digest_card, incident_card
from cards.nag import nag_card, nag_digest_card, nag_reason
from cards.notices import alert_card, problem_card, queued_card


def render(post: Post, *, tz: ZoneInfo, now: datetime) -> Reply:
    """`post` as the reader sees it: a card in the language being spoken, its times in `tz`, as of `now`."""
    match post:
        case EscalationPost(escalation, notice):
            card = escalation_card(escalation, tz=tz, now=now, notice=notice)
        case StandbyPost(ticket, team, by, note, at):
            card = standby_card(ticket, team=team, by=by, note=note, at=at, tz=tz, now=now)
        case NewTicketAlert(ticket, service_class, by):
            card = alert_card(ticket, service_class=service_class, by=by)
        case EscalationAnswered(ticket, team, who, answer, said):
            card = answered_card(ticket=ticket, team=team, who=who, answer=answer, said=said)
        case NotAcknowledged(ticket, team, passed_to):
            card = not_acknowledged_card(ticket=ticket, team=team, passed_to=passed_to)
        case IncidentPost(summary, notice):
            card = incident_card(summary, tz=tz, now=now, notice=notice)
        case DigestPost(digest):
            card = digest_card(digest, tz=tz, now=now)
        case NagPost(ticket, profile, kind, misses, since, share):
            card = nag_card(ticket, profile, tz=tz, now=now, step=next_step(ticket, profile, now),
                            reason=nag_reason(ticket, profile, kind, misses=misses, since=since, share=share, tz=tz,
                                              now=now),
                            take_it=kind is Kind.RECEPTION)  # a report nobody logged: one click takes it
        case NagDigestPost(nags, part, parts):
            card = nag_digest_card([(nag.ticket, nag_reason(nag.ticket, nag.profile, nag.kind, misses=nag.misses,
                                                            since=nag.since, share=nag.share, tz=tz, now=now),
                                     nag.kind is Kind.RECEPTION) for nag in nags], part=part, parts=parts)
        case ForManagement(draft, by):
            card = management_post_card(draft, by=by)
        case Problem(message, hint):
            card = problem_card(message, hint=hint)
        case Queued(command, landed, waiting):
            card = queued_card(command, landed=landed, waiting=waiting)
        case _:
            raise TypeError(f"no card draws a {type(post).__name__}")
    return Reply(card=card)
