"""2,000 commands from 20 concurrent Teams users through the bot's HTTP endpoint while Odoo is cut for 10 s
in the middle (tests/support/load.py); `bench/load.py` times the same run."""

from __future__ import annotations

from pathlib import Path

from tests.support.load import APPLIED, LoadRun, run_load

USERS, COMMANDS = 20, 2000


def user_tickets(run: LoadRun, user: int) -> list[int]:
    """The command numbers of the tickets the user's `/ticket new` made, in the order Odoo created them."""
    found = run.odoo.call(2, "helpdesk.ticket", "search_read", [[["name", "ilike", f"[u{user}-c"]]],
                          {"fields": ["name"], "order": "id"})
    return [int(ticket["name"].split(f"[u{user}-c")[1].split("]")[0]) for ticket in found]


async def test_2000_commands_from_20_users_with_odoo_cut_for_10_seconds(redis_url: str, tmp_path: Path) -> None:
    """Figures: 2,000 commands answered in their turn; of the 1,400 changes, each applied exactly once (0
    missing, 0 duplicates), though hundreds were kept during and after the cut and some of Odoo's replies were
    lost after it wrote; each kept one told exactly once that it was applied; each user's changes in Odoo in the
    order typed."""
    run = await run_load(redis_url, tmp_path, users=USERS, commands=COMMANDS, cut_after=700, cut_seconds=10.0)
    assert len(run.turns) == COMMANDS
    assert len(run.changes) == COMMANDS * 7 // 10
    assert [turn.mark for turn in run.turns if not turn.answer] == []  # nobody left without an answer

    kept = [turn for turn in run.changes if turn.kept]
    assert kept and run.swallowed > 0  # the cut bit: changes were kept, and Odoo acted on some it never answered
    landed = run.landed()
    assert [(turn.mark, landed[turn.mark]) for turn in run.changes if landed[turn.mark] != 1] == []

    for user in range(USERS):
        told = run.told_later(user)
        assert told == [APPLIED] * sum(turn.user == user for turn in kept)  # each kept one told once, applied
        changes = sorted((turn for turn in run.changes if turn.user == user), key=lambda turn: turn.seq)
        assert run.marks_in_chatter(user) == [turn.seq for turn in changes if turn.kind != "new"]
        assert user_tickets(run, user) == [turn.seq for turn in changes if turn.kind == "new"]
        [ticket] = run.odoo.call(2, "helpdesk.ticket", "read", [[run.tickets[user]]], {"fields": ["stage_id"]})
        assert ticket["stage_id"][1] == "In Progress"  # the last of its holds was resumed
