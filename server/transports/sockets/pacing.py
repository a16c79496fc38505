"""Background work on the event loop in short slices, so that messages go first.

A queue round (read the queue, plan it, send a broadcast to every waiting page) costs tens of
milliseconds of the loop with a thousand relatives waiting. Run in one piece, or yielding with
``sleep(0)``, it makes every message that arrives meanwhile wait for most of it: a message needs
several loop turns (its frame, its handler, the commit in the writer thread, its emit), and each
turn waited behind the round's next slice. Here the work stops whenever its slice has used up its
budget and pauses long enough for the loop to carry messages through those turns."""

from __future__ import annotations

import asyncio

# A slice of at most 2 ms keeps a message's wait behind it short; the 1 ms pause lets a message
# through its turns and the writer thread take the GIL.
SLICE_BUDGET = 0.002
PAUSE = 0.001


class Pacer:
    """Made where the work starts, in the event loop; call ``await pacer.pace()`` at points where
    the work may stop: it pauses only when the current slice has run ``budget`` seconds. Cheap to
    call often (one clock read)."""

    def __init__(self, budget: float = SLICE_BUDGET, pause: float = PAUSE) -> None:
        self.budget = budget
        self.pause = pause
        self._loop = asyncio.get_running_loop()
        self._slice_started = self._loop.time()

    async def pace(self) -> None:
        if self._loop.time() - self._slice_started >= self.budget:
            await asyncio.sleep(self.pause)
            self._slice_started = self._loop.time()
