"""Which handler fires each kind of timer: the feature that schedules a kind registers its handler for it (as the
handler modules register their commands), and the worker fires every timer through `TimerKinds.handler`, or, for the
kinds registered `together` (the reminders), the due ones of a round at once through `TimerKinds.gathering`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.timers.engine import Timer
from bot.timers.worker import Gathering, Handler

logger = logging.getLogger(__name__)

S = TypeVar("S")  # what the handlers work with (bot.context.Services), given when the worker is made
KindHandler = Callable[[S, Timer], Awaitable[None]]
# the due timers of such kinds in one round, at once: one outcome each, in their order (None, or what failed)
ManyHandler = Callable[[S, Sequence[Timer]], Awaitable[Sequence[BaseException | None]]]


class TimerKinds(Generic[S]):
    """Handlers by kind of timer: one feature's (`on`), or every feature's (made from theirs)."""

    def __init__(self, *groups: TimerKinds[S]) -> None:
        self._handlers: dict[str, KindHandler[S]] = {}
        self._together: dict[str, ManyHandler[S]] = {}
        for group in groups:
            for kind, handler in group._handlers.items():
                self._register(kind, handler)
            for kind, many in group._together.items():
                self._register_together(kind, many)

    def on(self, *kinds: str) -> Callable[[KindHandler[S]], KindHandler[S]]:
        """The decorated function handles the timers of these kinds."""
        def register(handler: KindHandler[S]) -> KindHandler[S]:
            for kind in kinds:
                self._register(kind, handler)
            return handler

        return register

    def together(self, *kinds: str) -> Callable[[ManyHandler[S]], ManyHandler[S]]:
        """The decorated function handles the timers of these kinds due in one round of the worker at once (all
        these kinds together, e.g. to post one card for several); it must handle any of them alone too."""
        def register(handler: ManyHandler[S]) -> ManyHandler[S]:
            for kind in kinds:
                self._register_together(kind, handler)
            return handler

        return register

    def _register(self, kind: str, handler: KindHandler[S]) -> None:
        if kind in self._handlers or kind in self._together:
            raise ValueError(f"timer kind {kind!r} is registered twice")
        self._handlers[kind] = handler

    def _register_together(self, kind: str, handler: ManyHandler[S]) -> None:
        if kind in self._handlers or kind in self._together:
            raise ValueError(f"timer kind {kind!r} is registered twice")
        self._together[kind] = handler

    def gathering(self, services: S) -> Gathering | None:
        """The worker's `Gathering`: the timers of the kinds registered `together`, a group per handler, each group's
        to its handler at once; None when no kind is."""
        if not self._together:
            return None
        together = self._together

        class _Gathering:
            def takes(self, timer: Timer) -> bool:
                return timer.kind in together

            async def __call__(self, timers: Sequence[Timer]) -> Sequence[BaseException | None]:
                outcomes: dict[int, BaseException | None] = {}
                handlers = list(dict.fromkeys(together[timer.kind] for timer in timers))
                for handler in handlers:
                    mine = [(n, timer) for n, timer in enumerate(timers) if together[timer.kind] is handler]
                    for (n, _), outcome in zip(mine, await handler(services, [timer for _, timer in mine]),
                                               strict=True):
                        outcomes[n] = outcome
                return [outcomes[n] for n in range(len(timers))]

        return _Gathering()

    def handler(self, services: S) -> Handler:
        """The worker's handler: each timer to the handler of its kind, with `services`; a kind nobody registered
        (a timer left by another version of the bot) is logged and completed."""

        async def handle(timer: Timer) -> None:
            handler = self._handlers.get(timer.kind)
            if handler is None and timer.kind in self._together:  # fired alone (a worker without the gathering)
                [failure] = await self._together[timer.kind](services, [timer])
                if failure is not None:
                    raise failure
                return
            if handler is None:
                logger.warning("ignoring a timer of unknown kind %s", timer.kind)
                return
            await handler(services, timer)

        return handle
