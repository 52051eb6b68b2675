"""Command registry, what a turn asks for, and the middleware chain.

Handlers register with `@commands.command("name", usage=...)`; the first paragraph of a
handler's docstring is its line in `/ticket help`, the whole docstring its `/ticket help name`.
Each paragraph is a sentence of the catalogue (`bot/i18n.py`), translated where help is shown.
A card's button registers with `@commands.card_action(verb, payload=Model)`: the router parses the
button's data into that model once, as it finds the command (`Router.asked`), and the handler gets it.
The steps of a turn are middleware, `async def step(ctx, call_next) -> list[Reply]`, run in the
order `bot.bot.build_router` uses them, then the command's handler.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from bot.context import Asked, Command, Ctx, Handler, HandlerResult, Request
from bot.i18n import N_, tr
from bot.parsing import (
    MAX_COMMAND_LENGTH,
    Arguments,
    CommandLine,
    UsageError,
    command_line,
    option_key,
    split_arguments,
)
from bot.payloads import CardPayload, ClickRefused, CommandForm, unknown_button
from bot.process import Action
from bot.turn import Incoming, Kind, Reply
from bot.wording import literal

logger = logging.getLogger(__name__)

Next = Callable[[Ctx], Awaitable[list[Reply]]]
Middleware = Callable[[Ctx, Next], Awaitable[list[Reply]]]
C = TypeVar("C", bound=CardPayload)
CardHandler = Callable[[Ctx, Request[C]], Awaitable[HandlerResult]]


NOT_A_COMMAND = N_("I only understand ticket commands. Try `/ticket help`.")


class CommandGroup:
    """Commands declared by one handler module; a Router includes several groups."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.card_actions: list[Command] = []
        self.message_actions: dict[tuple[str, bool], Command] = {}

    def card_action(self, *verbs: str, payload: type[C], needs_user: bool = False
                    ) -> Callable[[CardHandler[C]], CardHandler[C]]:
        """A button on a card (Action.Execute verb, or an Action.Submit fallback carrying `verb`) whose data is a
        `payload` (the handler gets it as `req.payload`); open to people without an Odoo user (the teams answering
        escalations) unless `needs_user`."""
        def register(handler: CardHandler[C]) -> CardHandler[C]:
            if not handler.__doc__:
                raise ValueError(f"card action {verbs!r} needs a docstring")
            self.card_actions += [Command(verb, "", handler, frozenset(), needs_user=needs_user, payload=payload)
                                  for verb in verbs]
            return handler

        return register

    def message_action(self, command_id: str, *, opens: bool, payload: type[C] | None = None,
                       action: Action | None = None) -> Callable[[Handler], Handler]:
        """A message action of the app's manifest (`composeExtensions`: a message's "..." menu): the handler that
        `opens` its dialog (fetchTask, a read), or the one its dialog is submitted to (submitAction: a change, the
        dialog's inputs parsed into `payload`). Both need an Odoo user and the quoted message."""
        def register(handler: Handler) -> Handler:
            if not handler.__doc__:
                raise ValueError(f"message action {command_id!r} needs a docstring")
            self.message_actions[command_id, opens] = Command(command_id, "", handler, frozenset(), changes=not opens,
                                                              action=action, payload=payload)
            return handler

        return register

    def command(self, name: str, usage: str, *, options: Sequence[str] = (), aliases: Sequence[str] = (),
                needs_user: bool = True, changes: bool = True, action: Action | None = None,
                reads: Callable[[Request], bool] | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if not handler.__doc__:
                raise ValueError(f"command {name!r} needs a docstring: it is the command's help text")
            self.commands.append(Command(name, usage, handler, frozenset(options), tuple(aliases), needs_user,
                                         changes, action, reads=reads))
            return handler

        return register


class Router:
    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self._by_alias: dict[str, Command] = {}
        self._card_actions: dict[str, Command] = {}
        self._message_actions: dict[tuple[str, bool], Command] = {}
        self._middleware: list[Middleware] = []

    def include(self, group: CommandGroup) -> None:
        for command in group.commands:
            for key in (command.name, *command.aliases):
                if key in self._by_alias:
                    raise ValueError(f"command {key!r} is registered twice")
                self._by_alias[key] = command
            self.commands[command.name] = command
        for action in group.card_actions:
            if action.name in self._card_actions:
                raise ValueError(f"card action {action.name!r} is registered twice")
            self._card_actions[action.name] = action
        for opening, message_action in group.message_actions.items():
            if opening in self._message_actions:
                raise ValueError(f"message action {opening!r} is registered twice")
            self._message_actions[opening] = message_action

    def use(self, middleware: Middleware) -> None:
        self._middleware.append(middleware)

    def find(self, name: str) -> Command | None:
        return self._by_alias.get(name.lower())

    def asked(self, incoming: Incoming) -> Asked | None:
        """What a turn asks for: a card's button (its data parsed into the model the button registered), a form's
        command, or a typed command; None when it is none of these (a message not addressed to `/ticket`). Raises
        ClickRefused for a button or form the bot does not know, or whose data does not parse, and UsageError for
        an unknown typed command or a message too long to read."""
        check_size(incoming)
        if incoming.kind in (Kind.MESSAGE_ACTION_OPEN, Kind.MESSAGE_ACTION):
            return self._message_action(incoming)
        data = incoming.value or {}
        verb = incoming.verb if incoming.kind is Kind.CARD_ACTION else str(data.get("verb") or "")
        if verb:
            return self._clicked(verb, data)
        if incoming.kind is Kind.MESSAGE and data.get("command"):
            return self._submitted(CommandForm.parsed(data))
        line = command_line(incoming.text)
        if line is not None:
            return self._typed(line)
        if incoming.kind is Kind.CARD_ACTION or data:  # a button that asks for nothing
            raise unknown_button(str(data.get("command") or ""))
        return None

    async def resolve(self, ctx: Ctx, call_next: Next) -> list[Reply]:
        """The first step of a command: what the turn asks for (`asked`), put in the context for the steps after it.
        In channels the bot only hears messages that @mention it, so one that asks for nothing is answered too."""
        ctx.asked = self.asked(ctx.incoming)
        if ctx.asked is None:
            return [Reply(text=tr(NOT_A_COMMAND))]
        return await call_next(ctx)

    def _clicked(self, verb: str, data: Mapping[str, Any]) -> Asked:
        action = self._card_actions.get(verb)
        if action is None or action.payload is None:  # (every button registers the model of its data)
            raise unknown_button(verb)
        return Asked(action, Request(verb, Arguments(), "", payload=action.payload.parsed(data)))

    def _message_action(self, incoming: Incoming) -> Asked:
        action = self._message_actions.get((incoming.verb, incoming.kind is Kind.MESSAGE_ACTION_OPEN))
        if action is None:
            raise unknown_button(incoming.verb)
        if incoming.quoted is None:  # Teams always sends the message: a forged or broken invoke
            raise ClickRefused(tr("This action needs the message it was started from, and Teams sent none."),
                               tr("Open it again from the message's ... menu. Nothing was changed."))
        payload = action.payload.parsed(incoming.value or {}) if action.payload is not None else None
        return Asked(action, Request(action.name, Arguments(), "", payload=payload))

    def _submitted(self, form: CommandForm) -> Asked:
        command = self.find(form.command)
        if command is None:
            raise unknown_button(form.command)
        return Asked(command, Request(command.name, Arguments(form.words, form.options(command.options)), form.lines,
                                      payload=None))

    def _typed(self, line: CommandLine) -> Asked:
        command = self.find(line.name or "help")
        if command is None:
            raise UsageError(tr("I don't know the command `{name}`. `/ticket help` lists them.",
                                name=literal(line.name)))
        args = split_arguments(line.args, command.options)
        self._refuse_others_options(command, args)
        return Asked(command, Request(command.name, args, line.body, payload=None))

    def _refuse_others_options(self, command: Command, args: Arguments) -> None:
        """An option another command takes (`customer:` on `/ticket update`) is refused, never sent as text: the
        person meant it as an option, and it would reach a customer or Odoo as words."""
        others = {option for each in self.commands.values() for option in each.options} - command.options
        for word in args.words:
            if (key := option_key(word)) in others:
                raise UsageError(tr("`/ticket {command}` has no `{key}:` option, so I did nothing (it would have been "
                                    "sent as text). Write it as `{usage}`.", command=command.name, key=key,
                                    usage=command.usage))

    async def dispatch(self, ctx: Ctx, final: Next) -> list[Reply]:
        async def run(index: int, context: Ctx) -> list[Reply]:
            if index == len(self._middleware):
                return await final(context)
            return await self._middleware[index](context, lambda c: run(index + 1, c))

        return await run(0, ctx)


def check_size(incoming: Incoming) -> None:
    """A message (typed text and card data together) longer than MAX_COMMAND_LENGTH is refused whole,
    before anything reads it: no title, note or reason is cut short without the agent knowing."""
    size = len(incoming.text) + (len(json.dumps(incoming.value, ensure_ascii=False)) if incoming.value else 0)
    if size > MAX_COMMAND_LENGTH:
        raise UsageError(tr("This message is {size} characters long; I take at most {limit} at a time. Split it "
                            "over several notes (`/ticket note <id> ...`), or attach long logs to the ticket in "
                            "Odoo.", size=f"{size:,}", limit=f"{MAX_COMMAND_LENGTH:,}"))


def as_replies(result: HandlerResult) -> list[Reply]:
    return [result] if isinstance(result, Reply) else list(result)
