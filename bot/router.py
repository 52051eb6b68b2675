"""Command registry and middleware chain.

Handlers register with `@router.command("name", usage=...)`; the first paragraph of a
handler's docstring is its line in `/ticket help`, the whole docstring its `/ticket help name`.
Each paragraph is a sentence of the catalogue (`bot/i18n.py`), translated where help is shown.
Cross-cutting work (dedupe, correlation id, errors, user mapping) is middleware:
`async def middleware(ctx, call_next) -> Outcome`.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.context import Ctx
from bot.i18n import tr
from bot.parsing import (
    MAX_COMMAND_LENGTH,
    Arguments,
    CommandLine,
    UsageError,
    command_line,
    option_key,
    split_arguments,
)
from bot.process import Action
from bot.turn import Incoming, Kind, Reply

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """A parsed command: what the handler works from, whether typed or sent from a form."""

    name: str
    args: Arguments
    body: str = ""  # the lines after the first (descriptions, long notes)


HandlerResult = Reply | Sequence[Reply]
Handler = Callable[[Ctx, Request], Awaitable[HandlerResult]]
Next = Callable[[Ctx], Awaitable[list[Reply]]]
Middleware = Callable[[Ctx, Next], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    handler: Handler
    options: frozenset[str]
    aliases: tuple[str, ...] = ()
    needs_user: bool = True  # False: works for people not mapped to an Odoo user (help)
    changes: bool = True  # False: only reads; when Odoo is down a change is kept in the outbox, a read is not
    action: Action | None = None  # what the process profile's `roles` may restrict
    reads: Callable[[Request], bool] | None = None  # a command that changes: which of its requests only read

    def changes_with(self, request: Request) -> bool:
        """Whether this request changes Odoo (kept in the outbox while Odoo is down) or only reads."""
        return self.changes and not (self.reads is not None and self.reads(request))

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.handler.__doc__ or "")

    @property
    def paragraphs(self) -> list[str]:
        return help_paragraphs(self.doc)

    @property
    def summary(self) -> str:
        return self.paragraphs[0]


def help_paragraphs(doc: str) -> list[str]:
    """A help text's paragraphs, each on one line: the keys its translations are kept under."""
    return [paragraph.replace("\n", " ") for paragraph in doc.split("\n\n")]


class CommandGroup:
    """Commands declared by one handler module; a Router includes several groups."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.card_actions: list[Command] = []

    def card_action(self, *verbs: str, needs_user: bool = False) -> Callable[[Handler], Handler]:
        """A button on a card (Action.Execute verb, or an Action.Submit fallback carrying `verb`);
        open to people without an Odoo user (the teams answering escalations) unless `needs_user`."""
        def register(handler: Handler) -> Handler:
            if not handler.__doc__:
                raise ValueError(f"card action {verbs!r} needs a docstring")
            self.card_actions += [Command(verb, "", handler, frozenset(), needs_user=needs_user) for verb in verbs]
            return handler

        return register

    def command(self, name: str, usage: str, *, options: Sequence[str] = (), aliases: Sequence[str] = (),
                needs_user: bool = True, changes: bool = True, action: Action | None = None,
                reads: Callable[[Request], bool] | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if not handler.__doc__:
                raise ValueError(f"command {name!r} needs a docstring: it is the command's help text")
            self.commands.append(Command(name, usage, handler, frozenset(options), tuple(aliases), needs_user,
                                         changes, action, reads))
            return handler

        return register


class Router:
    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self._by_alias: dict[str, Command] = {}
        self._card_actions: dict[str, Command] = {}
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

    def use(self, middleware: Middleware) -> None:
        self._middleware.append(middleware)

    def find(self, name: str) -> Command | None:
        return self._by_alias.get(name.lower())

    def request_for(self, ctx: Ctx) -> tuple[Command | None, Request | None]:
        """The command a turn asks for: typed text, or the data of a submitted form."""
        incoming = ctx.incoming
        check_size(incoming)
        verb = incoming.verb if incoming.kind is Kind.CARD_ACTION else str((incoming.value or {}).get("verb") or "")
        if verb:
            action = self._card_actions.get(verb)
            return (action, Request(verb, Arguments())) if action else (None, None)
        if incoming.kind is Kind.MESSAGE and incoming.value and incoming.value.get("command"):
            command = self.find(str(incoming.value["command"]))
            if command is None:
                return None, None
            return command, _request_from_form(command, incoming.value)
        line: CommandLine | None = command_line(incoming.text)
        if line is None:
            return None, None
        command = self.find(line.name or "help")
        if command is None:
            return None, Request(name=line.name, args=Arguments())
        args = split_arguments(line.args, command.options)
        self._refuse_others_options(command, args)
        return command, Request(command.name, args, line.body)

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


def _request_from_form(command: Command, value: dict[str, object]) -> Request:
    options = {k: str(v).strip() for k, v in value.items() if k in command.options and str(v or "").strip()}
    words = tuple(str(value.get("text") or value.get("title") or "").split())
    ticket = str(value.get("ticket") or "").strip()
    return Request(command.name, Arguments((ticket, *words) if ticket else words, options),
                   str(value.get("description") or value.get("body") or "").strip())


def as_replies(result: HandlerResult) -> list[Reply]:
    return [result] if isinstance(result, Reply) else list(result)
