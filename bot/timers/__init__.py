"""Redis sorted-set timers: the engine (schedule, cancel, claim with a lease, reap), the worker loop, and which
handler fires each kind."""

from bot.timers.engine import Timer, TimerEngine, Write
from bot.timers.kinds import TimerKinds
from bot.timers.worker import MAX_ATTEMPTS, Handler, TimerWorker

__all__ = ["MAX_ATTEMPTS", "Handler", "Timer", "TimerEngine", "TimerKinds", "TimerWorker", "Write"]
