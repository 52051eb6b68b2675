"""The translation seam: the reader's language per turn, English as the fallback."""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from string import Formatter

import aiohttp
import yaml
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.context import help_paragraphs
from bot.drafts.model import DraftAction
from bot.i18n import ENGLISH, LOCALES, catalogue, current, joined, language_of, speaking, tr
from bot.server import Runtime, create_app
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.drafts import draft_id, filled_in
from tests.support.odoo_view import OdooView
from tests.support.reminders import fire
from tests.support.teams import TeamsClient, card_text

PERSONAL = f"personal-{AGENT.id}"
SUPPORT = "19:support@thread.tacv2"
DEV = "19:dev@thread.tacv2"
MANAGEMENT = "19:management@thread.tacv2"


def test_teams_locales_map_to_shipped_languages() -> None:
    assert language_of("vi-VN") == "vi"
    assert language_of("vi") == "vi"
    assert language_of("en-GB") == ENGLISH
    assert language_of("fr-FR") == ENGLISH  # not shipped: English
    assert language_of("") == ENGLISH
    assert language_of(None) == ENGLISH


def test_a_sentence_is_said_in_the_language_being_spoken() -> None:
    sentence = "I only understand ticket commands. Try `/ticket help`."
    assert tr(sentence) == sentence
    with speaking("vi-VN"):
        assert current() == "vi"
        assert tr(sentence) == catalogue("vi")[sentence]
        assert tr(sentence) != sentence
    assert current() == ENGLISH


def test_an_untranslated_sentence_falls_back_to_english_with_its_values() -> None:
    with speaking("vi-VN"):
        assert tr("No translation for ticket {number} yet", number=7) == "No translation for ticket 7 yet"


def test_lists_are_joined_in_the_language_being_spoken() -> None:
    assert joined([]) == "" and joined(["an owner"]) == "an owner"
    assert joined(["a", "b", "c"]) == "a, b and c"
    with speaking("vi-VN"):
        assert joined(["a", "b"]) == "a và b"


async def test_two_turns_at_once_each_keep_their_language() -> None:
    async def turn(locale: str) -> str:
        with speaking(locale):
            await asyncio.sleep(0.01)
            return current()

    assert await asyncio.gather(turn("vi-VN"), turn("en-US")) == ["vi", ENGLISH]


# --- The catalogue: every sentence in the code has its Vietnamese, and nothing else is in it ------------------------

ROOT = Path(__file__).resolve().parent.parent
CODE = sorted(p for folder in ("bot", "cards") for p in (ROOT / folder).rglob("*.py") if "sandbox" not in p.parts)
# Callables whose arguments people read (position, or keyword): a literal sentence there skipped `tr`.
SAID = {"text": (0,), "open_url": (0,), "submit": (0,), "execute": (0,), "ask": (0, 3),
        "text_input": (1, "placeholder"), "number_input": (1, "placeholder"), "choice_input": (1,),
        "problem_card": (0, "hint"), "NextStep": (0,),
        "UsageError": (0,), "NotAllowed": (0,), "Refused": (0,), "UnknownUser": (0,), "LookupError": (0,),
        "Reply": ("text",), "ticket_reply": (2, "headline"), "ticket_card": ("headline", "alert"),
        "ticket_list_card": (0,), "nag_card": ("reason",), "escalation_card": ("notice",)}
READ_KEYS = {"title", "text", "placeholder", "label", "altText", "errorMessage",  # card JSON people read
             "legend", "xAxisTitle", "yAxisTitle"}  # charts'
WORDS = re.compile(r"[A-Za-z]{2,}")
NOT_SAID = {"bot/odoo/models.py"}  # start-up errors: for the admin, in the log


def _name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else ""


def _parsed() -> Iterator[tuple[str, ast.AST]]:
    for path in CODE:
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def _sentences() -> tuple[dict[str, str], list[str]]:
    """Every sentence given to `tr`/`N_` or written as a command's help (sentence -> where), and the misuses."""
    found: dict[str, str] = {}
    wrong: list[str] = []
    for where, tree in _parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) in ("tr", "N_") and node.args:
                first, line = node.args[0], f"{where}:{node.lineno}"
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.setdefault(first.value, line)
                elif _name(node) == "N_" or not _names_a_constant(first):
                    wrong.append(f"{line}: {_name(node)}({ast.unparse(first)})")
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "command"
                    for d in node.decorator_list):
                for paragraph in help_paragraphs(ast.get_docstring(node) or ""):
                    found.setdefault(paragraph, f"{where}:{node.lineno} (help of {node.name})")
    return found, wrong


def _names_a_constant(node: ast.AST) -> bool:
    """A variable, an attribute, or an entry of a table of them (`WHAT[action]`): sentences marked N_."""
    if isinstance(node, ast.Subscript):
        return _names_a_constant(node.value)
    return isinstance(node, ast.Name | ast.Attribute)


def _said_literally(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_said_literally(part) for part in node.values)
    if isinstance(node, ast.BinOp):
        return _said_literally(node.left) or _said_literally(node.right)
    if isinstance(node, ast.IfExp):
        return _said_literally(node.body) or _said_literally(node.orelse)
    return False


def _vi_files() -> dict[str, dict[str, str]]:
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for path in sorted((LOCALES / "vi").glob("*.yaml"))}


def _fields(sentence: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(sentence) if name is not None}


def test_tr_is_given_sentences_written_out_or_constants_marked_with_N_() -> None:
    found, wrong = _sentences()
    assert wrong == [], "tr() takes a literal sentence or a variable holding one marked with N_; N_ a literal"
    assert len(found) > 300


def test_no_sentence_people_read_skips_tr() -> None:
    skipped = []
    for where, tree in _parsed():
        if where in NOT_SAID:
            continue
        for node in ast.walk(tree):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)} if isinstance(node, ast.Dict) else set()
            if keys and not keys & {"command", "verb"}:  # what a button sends back to the bot is not read
                assert isinstance(node, ast.Dict)
                skipped += [f"{where}:{node.lineno}: {ast.unparse(value)}"
                            for key, value in zip(node.keys, node.values, strict=True)
                            if isinstance(key, ast.Constant) and key.value in READ_KEYS and _said_literally(value)]
            if isinstance(node, ast.Call) and (said := SAID.get(_name(node))):
                values = [node.args[spot] for spot in said if isinstance(spot, int) and spot < len(node.args)]
                values += [k.value for k in node.keywords if k.arg in said]
                skipped += [f"{where}:{node.lineno}: {ast.unparse(v)}" for v in values if _said_literally(v)]
            if isinstance(node, ast.Call) and _name(node) == "facts" and isinstance(node.args[0], ast.List):
                skipped += [f"{where}:{node.lineno}: {ast.unparse(pair.elts[0])}" for pair in node.args[0].elts
                            if isinstance(pair, ast.Tuple) and _said_literally(pair.elts[0])]
    assert skipped == []


def test_every_sentence_has_its_vietnamese_with_the_same_placeholders() -> None:
    found, _ = _sentences()
    vietnamese = catalogue("vi")
    missing = {sentence: where for sentence, where in found.items() if not vietnamese.get(sentence)}
    assert missing == {}
    assert {s: t for s, t in vietnamese.items() if _fields(s) != _fields(t)} == {}


def test_the_catalogue_has_no_stale_or_twice_defined_sentence() -> None:
    found, _ = _sentences()
    files = _vi_files()
    stale = {name: sorted(set(entries) - set(found)) for name, entries in files.items()}
    assert {name: sentences for name, sentences in stale.items() if sentences} == {}
    seen: dict[str, str] = {}
    twice = []
    for name, entries in files.items():
        twice += [f"{sentence!r} in {seen[sentence]} and {name}" for sentence in entries if sentence in seen]
        seen.update(dict.fromkeys(entries, name))
    assert twice == []
    for path in sorted((LOCALES / "vi").glob("*.yaml")):  # nor twice in one file (YAML keeps the last silently)
        root = yaml.compose(path.read_text(encoding="utf-8"))
        keys = [key.value for key, _ in root.value] if root is not None else []
        assert len(keys) == len(set(keys)), f"{path.name} defines a sentence twice"


# --- Through the bot: each reader in their own language ---------------------------------------------------------------

def vi(sentence: str, **values: object) -> str:
    with speaking("vi-VN"):
        return tr(sentence, **values)


async def test_a_vietnamese_teams_user_is_answered_in_vietnamese(teams: TeamsClient) -> None:
    teams.locale = "vi-VN"
    logged = card_text(await teams.card("/ticket new Không thể đăng nhập vào LMS users:1 "
                                        "customer:nguyen.van.a@mindx.edu.vn"))
    assert vi("Logged as {label}.", label="Standard") in logged
    assert f"{vi('Next: {what} by {due}', what=vi('Acknowledge the customer'), due='')}" in logged
    assert f"{vi('Customer')}: " in logged and f"{vi('Owner')}: {AGENT.name}" in logged
    assert "Logged as" not in logged and "Next:" not in logged

    unknown = card_text(await teams.card("/ticket frobnicate 42"))
    assert vi("I don't know the command `{name}`. `/ticket help` lists them.", name="frobnicate") in unknown
    wrong = card_text(await teams.card("/ticket new Broken users:lots"))
    assert vi("`{text}` is not a number of users. Write a whole number from 0 to {most} in the digits 0-9, like "
              "`users:15`.", text="lots", most="1,000,000") in wrong
    assert vi("Usage: `{usage}`", usage="/ticket new <title>").split("<title>")[0] in wrong  # the usage stays as is
    [chat] = await teams.say("xin chào")
    assert chat.text == vi("I only understand ticket commands. Try `/ticket help`.")
    helped = card_text(await teams.card("/ticket help"))
    assert vi("Log a new ticket in Odoo (step 1: reception). The description goes on the next lines.") in helped
    assert "/ticket new <title>" in helped  # commands and usages are not translated


async def test_an_english_teams_user_is_answered_in_english(teams: TeamsClient) -> None:
    logged = card_text(await teams.card("/ticket new Printer on fire users:1"))
    assert "Logged as Standard." in logged and "Next: Acknowledge the customer by" in logged
    unknown = card_text(await teams.card("/ticket frobnicate 42"))
    assert "I don't know the command `frobnicate`. `/ticket help` lists them." in unknown


async def test_a_reminder_speaks_each_readers_language(teams: TeamsClient, runtime: Runtime, odoo: OdooView,
                                                       clock: FakeClock) -> None:
    await teams.say_in_channel("/ticket channel support", SUPPORT, sender=LEAD)
    await teams.say("/ticket list mine", sender=LEAD)  # the team lead's Teams speaks English
    teams.locale = "vi-VN"  # the owner's speaks Vietnamese
    await teams.card("/ticket new WEB101 rất chậm users:16 customer:coordinator.ha@mindx.edu.vn")
    number = str(odoo.newest_ticket()["number"])

    clock.advance(minutes=31)  # not acknowledged within 30 minutes: the owner is reminded
    posted = await fire(runtime, teams)
    [owner] = [card_text(p.card) for p in posted if p.card and p.conversation_id == PERSONAL and number in
               card_text(p.card)]
    since = f"15:33 ({vi('{amount} ago', amount=vi('{count} min', count=31))})"  # in the owner's time zone too
    assert vi("{ticket} is not acknowledged yet: the customer is waiting since {since}.", ticket=number,
              since=since) in owner
    assert f"[{vi('Snooze 15 min')}]" in owner and f"[{vi('Post update')}]" in owner
    assert "is not acknowledged yet" not in owner and "[Snooze 15 min]" not in owner

    for _ in range(4):  # missed again: the lead and the support channel hear of it too, each in their language
        clock.advance(minutes=15)
        posted = await fire(runtime, teams)
        lead = [card_text(p.card) for p in posted if p.card and p.conversation_id == f"personal-{LEAD.id}"]
        if lead:
            break
    channel = [card_text(p.card) for p in posted if p.card and p.conversation_id.startswith(SUPPORT)]
    owner_again = [card_text(p.card) for p in posted if p.card and p.conversation_id == PERSONAL]
    assert lead and "is not acknowledged yet" in lead[0] and "(reminder 2)" in lead[0]
    assert channel and "is not acknowledged yet" in channel[0]  # the profile's language: English by default
    assert owner_again and vi("{reason} (reminder {count})", reason="", count=2).strip() in owner_again[0]


async def test_escalation_cards_speak_the_channels_language_and_each_clicker_their_own(
        teams: TeamsClient, odoo: OdooView) -> None:
    await teams.say_in_channel("/ticket channel dev", DEV, sender=LEAD)
    teams.locale = "vi-VN"
    await teams.card("/ticket new WEB101 báo cáo điểm danh bị timeout users:16 customer:coordinator.ha@mindx.edu.vn")
    tid = int(odoo.newest_ticket()["id"])
    summary = card_text(await teams.card(f"/ticket escalate {tid} dev 16 giáo viên không mở được báo cáo"))
    assert vi("I will tell you when they answer, and pass it on if nobody does.") in summary

    [posted] = teams.connector.cards_in(DEV)
    assert "Escalation to the Dev team" in card_text(posted.card or {})  # the channel: the profile's language
    status, body = await teams.invoke("escalation.ack", {"escalation": posted.card["refresh"]["action"]["data"][
        "escalation"]}, channel=DEV, sender=LEAD)  # a Vietnamese-speaking lead clicks in the channel
    assert status == 200
    shown = card_text(body["value"])
    assert vi("Escalation to the {team}", team="Dev team") in shown and "Escalation to the" not in shown
    [update] = [u for u in teams.connector.updated if u.id == posted.id]
    assert "Acknowledged by" in card_text(update.card or {})  # everyone else's copy stays in the channel's language
    [told] = [p for p in teams.connector.posted if p.conversation_id == PERSONAL and p.card
              and LEAD.name in card_text(p.card)]
    assert vi("{who} ({team}) acknowledged the escalation of {ticket}", who=LEAD.name, team="Dev team",
              ticket=odoo.ticket(tid)["number"]) in card_text(told.card or {})  # the owner, in their language


async def test_what_a_vietnamese_agent_causes_in_a_channel_reads_in_the_channels_language(
        teams: TeamsClient, odoo: OdooView) -> None:
    await teams.say_in_channel("/ticket channel management", MANAGEMENT, sender=LEAD)
    teams.locale = "vi-VN"  # the agent's Teams speaks Vietnamese; the desk's profile says English
    await teams.card("/ticket new Exams cannot be submitted users:53 customer:coordinator.ha@mindx.edu.vn")
    tid = int(odoo.newest_ticket()["id"])
    draft = await teams.card(f"/ticket email {tid} management lang:en")
    status, body = await teams.invoke(DraftAction.POST_EDITED.value, {"draft": draft_id(draft), **filled_in(draft)})
    assert status == 200 and "đã gửi cho" in card_text(body["value"])  # the clicker reads their own language
    incident, summary = teams.connector.cards_in(MANAGEMENT)
    assert "Expedite incident" in card_text(incident.card or {})
    assert f"sent by {AGENT.name}" in card_text(summary.card or {})
    assert vi("Users affected") not in card_text(incident.card or {})


async def test_a_vietnamese_desk_posts_in_channels_in_vietnamese(redis: Redis, redis_url: str, sandbox: RunningSandbox,
                                                                 clock: FakeClock, connector: tuple[ConnectorStub, str],
                                                                 tmp_path: Path) -> None:
    profile = tmp_path / "mindx-vi.yaml"
    profile.write_text((ROOT / "profiles" / "mindx.yaml").read_text(encoding="utf-8").replace(
        "\nlanguage: en\n", "\nlanguage: vi\n"), encoding="utf-8")
    server = TestServer(create_app(bot_settings(redis_url, sandbox.url, process_profile=str(profile)),
                                   clock=clock.now), host="127.0.0.1")
    await server.start_server()
    stub, connector_url = connector
    try:
        async with aiohttp.ClientSession() as session:
            teams = TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT)
            await teams.say_in_channel("/ticket channel dev", DEV, sender=LEAD)
            await teams.card("/ticket new WEB101 attendance report times out users:16")
            tid = int(OdooView(sandbox.odoo).newest_ticket()["id"])
            answer = card_text(await teams.card(f"/ticket escalate {tid} dev Teachers blocked"))
            assert "must acknowledge by" in answer  # the agent's own Teams speaks English
            [posted] = stub.cards_in(DEV)
            assert vi("Escalation to the {team}", team="Dev team") in card_text(posted.card or {})
    finally:
        await server.close()


async def test_a_vietnamese_post_mortem_card_leaves_the_note_in_odoo_in_english(
        teams: TeamsClient, odoo: OdooView, clock: FakeClock) -> None:
    teams.locale = "vi-VN"
    await teams.card("/ticket new Không thể đăng nhập vào LMS users:1 customer:nguyen.van.a@mindx.edu.vn")
    tid = int(odoo.newest_ticket()["id"])
    clock.advance(minutes=3)
    await teams.card(f"/ticket ack {tid}")
    await teams.card(f"/ticket diag {tid} Tài khoản bị khóa. Root cause: nhập sai mật khẩu 5 lần.")
    clock.advance(minutes=10)
    await teams.card(f"/ticket resolve {tid} Đã mở khóa tài khoản và gửi mật khẩu tạm.")
    await teams.card(f"/ticket confirm {tid}")

    shown = card_text(await teams.card(f"/ticket postmortem {tid}"))
    for expected in (vi("{count} user affected", count=1), vi("What went well"), vi("Action items"),
                     vi("Acknowledged {took} after it was logged (target {target})", took="3m", target="30m"),
                     f"{vi('Logged in Odoo')} ({AGENT.name})", vi("The root cause was found and recorded")):
        assert expected in shown, expected
    assert "What went well" not in shown and "after it was logged" not in shown
    [note] = [m["body"] for m in odoo.messages(tid, subtype="Note") if "# Post-mortem" in m["body"]]
    for english in ("## What went well", "Acknowledged 3m after it was logged (target 30m)", "1 user affected",
                    "Logged in Odoo"):
        assert english in note, english  # the chatter, read back by the next post-mortem, stays in English
    assert vi("What went well") not in note
