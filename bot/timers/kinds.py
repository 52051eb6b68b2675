"""Which handler fires each kind of timer: the feature that schedules a kind registers its handler for it (as the
handler modules register their commands), and the worker fires every timer through `TimerKinds.handler`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.timers.engine import Timer
from bot.timers.worker import Handler

logger = logging.getLogger(__name__)

S = TypeVar("S")  # what the handlers work with (bot.context.Services), given when the worker is made
KindHandler = Callable[[S, Timer], Awaitable[None]]


class TimerKinds(Generic[S]):
    """Handlers by kind of timer: one feature's (`on`), or every feature's (made from theirs)."""

    def __init__(self, *groups: TimerKinds[S]) -> None:
        self._handlers: dict[str, KindHandler[S]] = {}
        for group in groups:
            for kind, handler in group._handlers.items():
                self._register(kind, handler)

    def on(self, *kinds: str) -> Callable[[KindHandler[S]], KindHandler[S]]:
        """The decorated function handles the timers of these kinds."""
        def register(handler: KindHandler[S]) -> KindHandler[S]:
            for kind in kinds:
                self._register(kind, handler)
            return handler

        return register

    def _register(self, kind: str, handler: KindHandler[S]) -> None:
        if kind in self._handlers:
            raise ValueError(f"timer kind {kind!r} is registered twice")
        self._handlers[kind] = handler

    def handler(self, services: S) -> Handler:
        """The worker's handler: each timer to the handler of its kind, with `services`; a kind nobody registered
        (a timer left by another version of the bot) is logged and completed."""

        async def handle(timer: Timer) -> None:
            handler = self._handlers.get(timer.kind)
            if handler is None:
                logger.warning("ignoring a timer of unknown kind %s", timer.kind)
                return
            await handler(services, timer)

        return handle
