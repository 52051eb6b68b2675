"""`/ticket help`: the registry's own docstrings, so help is never out of date."""

from __future__ import annotations

from collections.abc import Callable

from bot.context import Command, Ctx, Request
from bot.i18n import tr
from bot.parsing import UsageError
from bot.router import CommandGroup
from bot.turn import Reply
from bot.wording import literal
from cards.help import command_help_card, help_card


def help_command(registry: Callable[[], list[Command]]) -> CommandGroup:
    """The help command, reading the commands of the router it is included in."""
    group = CommandGroup()

    @group.command("help", "/ticket help [command]", aliases=("?", "commands"), needs_user=False,
                   changes=False)
    async def help_(ctx: Ctx, req: Request) -> Reply:
        """Show the commands, or everything about one command."""
        known = registry()
        if req.args.words:
            wanted = req.args.words[0].lower().lstrip("/")
            for command in known:
                if wanted in (command.name, *command.aliases):
                    return Reply(card=command_help_card(command.usage, "\n\n".join(
                        tr(paragraph) for paragraph in command.paragraphs)))
            raise UsageError(tr("There is no command `{wanted}`. These exist: {known}.", wanted=literal(wanted),
                                known=", ".join(c.name for c in known)))
        return Reply(card=help_card([(c.usage, tr(c.summary)) for c in known]))

    return group
