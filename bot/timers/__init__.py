"""Redis sorted-set timers: the engine (schedule, cancel, claim with a lease, reap) and the worker loop."""

from bot.timers.engine import Timer, TimerEngine, Write
from bot.timers.worker import MAX_ATTEMPTS, Handler, TimerWorker

__all__ = ["MAX_ATTEMPTS", "Handler", "Timer", "TimerEngine", "TimerWorker", "Write"]
