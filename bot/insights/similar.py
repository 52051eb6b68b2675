"""Past fixes on new tickets (step 7 feeding step 3): the resolved tickets most like a new one, with the root cause
and the fix their chatter gives, so the agent starts from what worked.

- What a past ticket says: its title, its description, its diagnosis notes (`/ticket diag`, or "Diagnosis:" typed in
  Odoo) and its resolution (the message `/ticket resolve` sends); the root cause is the one a note states
  ("Root cause: ..."), else the last diagnosis note. A ticket closed in a stage other than Cancelled counts when its
  chatter has a diagnosis or a resolution: one that says neither has no fix to offer.
- Ranked by BM25 (the `bm25s` package: numpy only, sparse scores, no model), over words folded so that Vietnamese
  matches with and without its diacritics ("đăng nhập", "dang nhap" and "Đăng Nhập" are the same: NFD, combining
  marks dropped, đ -> d, case folded), and over pairs of neighbouring words (`compared`).
- Kept in memory, per replica: built from Odoo in pages at start-up (two calls per page of tickets: the tickets, then
  their diagnosis and resolution messages), then kept up by the Odoo poller, each round adding the tickets resolved
  (written) since the last one. Until the first build ends, nothing is shown: the new-ticket card never waits.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count, pairwise
from typing import Protocol

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from bot.insights.findings import root_cause
from bot.insights.model import TicketHistory
from bot.insights.timeline import EventKind, events
from bot.process import Stage
from bot.tickets import Ticket

logger = logging.getLogger(__name__)

SHOWN = 3  # past tickets on a card
EXCERPT = 300  # characters of a cause or a fix kept (and shown)
PAGE = 200  # tickets read from Odoo at a time, with their chatter in a second call
CLOCK_MARGIN = timedelta(minutes=5)  # the first refresh reads back this far before the build began (clocks differ)

# Vietnamese function words, folded (the English ones are bm25s's list). Kept short: BM25 weighs common words down
# anyway, and folding makes some of them another word's twin ("đang", being, is "đăng" of "đăng nhập").
_STOPWORDS_VI = frozenset("""
    va la cua cac nhung mot cho voi thi bi da se nay do trong khi de tu ra vao duoc roi cung nhu hay hoac ma
    """.split())
STOPWORDS = frozenset(STOPWORDS_EN) | _STOPWORDS_VI
_WORD = re.compile(r"\w+")
# After NFD, the combining marks (Unicode's combining diacritical blocks) go, and đ, which NFD leaves whole, is d.
_COMBINING = (range(0x0300, 0x0370), range(0x1AB0, 0x1B00), range(0x1DC0, 0x1E00), range(0x20D0, 0x2100),
              range(0xFE20, 0xFE30))
_FOLD: dict[int, str | None] = {**{mark: None for block in _COMBINING for mark in block}, ord("đ"): "d", ord("Đ"): "D"}


def folded(text: str) -> str:
    """`text` without diacritics, in lower case: "Không thể Đăng nhập" -> "khong the dang nhap"."""
    return unicodedata.normalize("NFD", text).translate(_FOLD).casefold()


def terms(text: str) -> list[str]:
    """The words of `text`: folded, at least two characters, no stop word."""
    return [word for word in _WORD.findall(folded(text)) if len(word) > 1 and word not in STOPWORDS]


def compared(text: str) -> list[str]:
    """What BM25 compares: the words, and each pair of neighbours. A Vietnamese word is often two syllables ("đăng
    nhập", log in; "báo cáo", report), each a word of its own elsewhere ("báo sai", says wrong): the pair tells them
    apart, as it does English phrases ("password reset")."""
    words = terms(text)
    return [*words, *(f"{first} {second}" for first, second in pairwise(words))]


@dataclass(frozen=True)
class PastFix:
    """A resolved ticket as a card shows it: which, and what was wrong and what was done."""

    ticket_id: int
    label: str  # "HT00012"
    title: str
    cause: str  # "" when no diagnosis note was written
    fix: str  # "" when the resolution was not written through the bot
    url: str


def past_fix(history: TicketHistory) -> tuple[PastFix, str] | None:
    """What a resolved ticket offers, and the text it is found by; None for one cancelled or still open, or whose
    chatter says neither what was wrong nor what was done."""
    ticket = history.ticket
    if not ticket.closed or ticket.stage_key is Stage.CANCELLED:
        return None
    timeline = events(history)
    diagnosis = [event.text for event in timeline if event.kind is EventKind.DIAGNOSIS and event.text.strip()]
    fixes = [event.text for event in timeline if event.kind is EventKind.RESOLVED and event.text.strip()]
    if not diagnosis and not fixes:
        return None
    cause = (root_cause(diagnosis) or diagnosis[-1]) if diagnosis else ""
    fix = fixes[-1] if fixes else ""
    found = PastFix(ticket.id, ticket.label, ticket.title, _excerpt(cause), _excerpt(fix), ticket.url)
    return found, "\n".join([ticket.title, ticket.description, *diagnosis, fix])


def query(ticket: Ticket) -> str:
    """What a ticket is looked up by: its title and description."""
    return f"{ticket.title}\n{ticket.description}"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1].rstrip() + "…"


class ResolvedTickets(Protocol):
    """Where the resolved tickets are read from: Odoo (bot.odoo.gateway.OdooGateway)."""

    def resolved_histories(self, *, page: int = PAGE) -> AsyncIterator[list[TicketHistory]]:
        """Every resolved ticket, a page at a time, each with its diagnosis and resolution messages."""
        ...

    async def resolved_since(self, cursor: str, *, skip: Collection[int] = (),
                             limit: int = PAGE) -> list[tuple[TicketHistory, str]]:
        """Resolved tickets written at or after `cursor` (Odoo's time), oldest first, with their write_date, except
        those in `skip` still written at `cursor` itself."""
        ...


@dataclass(frozen=True)
class _Ranking:
    """The BM25 scores of the tickets indexed when it was built: read by queries while the next one is built."""

    ids: tuple[int, ...]  # the ticket of each document, in the scores' order
    vocabulary: int  # word ids below this are in the scores
    bm25: bm25s.BM25


class SimilarTickets:
    """The resolved tickets' index, in this replica's memory. Queries (`like`) are synchronous and in memory; `keep_up`
    (the poller's) reads Odoo."""

    def __init__(self) -> None:
        self._fixes: dict[int, PastFix] = {}
        self._words: dict[int, array[int]] = {}  # ticket id -> its words, as ids into `_vocabulary`
        self._vocabulary: defaultdict[str, int] = defaultdict(count().__next__)  # a new word gets the next id
        self._ranking: _Ranking | None = None
        self._built = False
        self._cursor = ""  # Odoo's write_date of the newest resolved ticket read
        self._seen: set[int] = set()  # the tickets read that were written at the cursor's second
        self._busy = asyncio.Lock()

    @property
    def ready(self) -> bool:
        """Built once: what `like` says is the whole desk's (until then it says nothing)."""
        return self._built

    def __len__(self) -> int:
        return len(self._fixes)

    def like(self, text: str, *, exclude: Collection[int] = (), limit: int = SHOWN) -> list[PastFix]:
        """The resolved tickets most like `text`, best first (at most `limit`, each sharing at least a word with it);
        [] until the index is built."""
        ranking = self._ranking
        if ranking is None or not self._built:
            return []
        wanted = {self._vocabulary.get(word, ranking.vocabulary) for word in compared(text)}
        ids = sorted(word for word in wanted if word < ranking.vocabulary)
        if not ids:
            return []
        scores = ranking.bm25.get_scores_from_ids(ids)
        count = min(len(scores), limit + len(exclude))
        best = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else np.arange(len(scores))
        ranked = sorted(((float(scores[i]), ranking.ids[i]) for i in best), key=lambda pair: (-pair[0], -pair[1]))
        return [self._fixes[ticket] for score, ticket in ranked
                if score > 0 and ticket not in exclude and ticket in self._fixes][:limit]

    def add(self, histories: Iterable[TicketHistory]) -> int:
        """Index (or index again) these tickets: those resolved, with a diagnosis or a resolution; a ticket indexed
        before and no longer resolved (reopened, cancelled) is left out. How many changed; `rank` makes them count."""
        changed = 0
        for history in histories:
            found = past_fix(history)
            ticket_id = history.ticket.id
            if found is None:
                changed += self._fixes.pop(ticket_id, None) is not None
                self._words.pop(ticket_id, None)
                continue
            fix, said = found
            self._fixes[ticket_id] = fix
            self._words[ticket_id] = array("i", map(self._vocabulary.__getitem__, compared(said)))
            changed += 1
        return changed

    def rank(self) -> None:
        """Build the BM25 scores of what is indexed now (CPU: 20,000 tickets in about a second)."""
        documents = list(self._words.items())
        self._ranking = _rank(documents, dict(self._vocabulary)) if documents else None

    async def _ranked(self) -> None:
        """`rank` in a worker thread: the event loop goes on answering turns meanwhile."""
        documents = list(self._words.items())
        vocabulary = dict(self._vocabulary)
        self._ranking = await asyncio.to_thread(_rank, documents, vocabulary) if documents else None

    async def keep_up(self, odoo: ResolvedTickets, *, now: datetime) -> int:
        """Build the index from Odoo the first time, then add what was resolved since the last call: how many
        tickets changed. Returns at once (0) while another call is at it (the start-up build)."""
        if self._busy.locked():
            return 0
        async with self._busy:
            if not self._built:
                return await self._build(odoo, now)
            return await self._refresh(odoo)

    async def _build(self, odoo: ResolvedTickets, now: datetime) -> int:
        cursor = (now - CLOCK_MARGIN).strftime("%Y-%m-%d %H:%M:%S")  # Odoo's format, UTC
        read = 0
        async for page in odoo.resolved_histories(page=PAGE):
            self.add(page)
            read += len(page)
        await self._ranked()
        self._cursor, self._seen, self._built = cursor, set(), True
        logger.info("similar tickets: %d resolved tickets read from Odoo, %d with a fix indexed", read, len(self))
        return len(self)

    async def _refresh(self, odoo: ResolvedTickets) -> int:
        changed = 0
        while True:
            page = await odoo.resolved_since(self._cursor, skip=self._seen, limit=PAGE)
            changed += self.add(history for history, _ in page)
            if page:
                newest = page[-1][1]  # ordered by write_date
                at_newest = {history.ticket.id for history, written in page if written == newest}
                self._seen = self._seen | at_newest if newest == self._cursor else at_newest
                self._cursor = newest
            if len(page) < PAGE:
                break
        if changed:
            await self._ranked()
            logger.info("similar tickets: %d resolved tickets added or changed (%d indexed)", changed, len(self))
        return changed


def _rank(documents: Sequence[tuple[int, array[int]]], vocabulary: Mapping[str, int]) -> _Ranking:
    bm25 = bm25s.BM25()
    bm25.index(([words for _, words in documents], dict(vocabulary)), create_empty_token=False,
               show_progress=False)
    return _Ranking(tuple(ticket for ticket, _ in documents), len(vocabulary), bm25)
