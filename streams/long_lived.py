"""Keeping CPython's cyclic garbage collector off the state that lives as long as the worker.

Why: a full collection traverses every tracked object, and a worker holds many that never die:
Faust's, aiokafka's, pydantic's and numpy's own, and the engine state of every patient. With
10,000 patients the worker paused 100-250 ms for each full collection (measured with gc
callbacks during bench/worker.py's latency run at 10,000 sets/s), and those pauses were the
99th percentile of produce -> alert.

`gc.freeze()` moves every object alive at that moment into a permanent generation that
collections skip. It is safe for the engine state because that state holds no reference cycles
(tests/test_long_lived.py): a patient forgotten after a rebalance or a discharge is freed by
reference counting, frozen or not. What freezing costs is cyclic garbage that was still alive
at the moment of a freeze: it is never collected. So the worker freezes rarely: once after
recovery (after a full collection, so nothing already garbage is kept), and again each time the
number of patients has grown by half since (a ward filling up), which happens a handful of
times in a worker's life.

While the table's patients are restored after a rebalance, the collector is off (`restoring`):
every object made then lives as long as the assignment, and the collections that the growing
heap triggered, each full one traversing every patient restored so far, were more than half of
the restore's time (`python -m bench.labs_state` measures both). `recovered` collects once
right after, so nothing made meanwhile is frozen as garbage.
"""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger(__name__)


class LongLivedObjects:
    def __init__(self, growth: float = 1.5, minimum_patients: int = 1000) -> None:
        self.growth = growth
        self.minimum_patients = minimum_patients
        self._frozen_with: int | None = None

    def recovered(self, patients: int) -> None:
        """The table has been restored: what is alive now lives as long as the assignment."""
        gc.collect()
        self._freeze(patients)

    @contextmanager
    def restoring(self) -> Iterator[None]:
        """The collector off inside the block (as it was after it), for restoring patients."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was_enabled:
                gc.enable()

    def counted(self, patients: int) -> None:
        """Called now and then with the number of patients: freeze if it grew by `growth`."""
        if self._frozen_with is None:
            return  # not recovered yet
        if patients >= max(self.minimum_patients, self._frozen_with * self.growth):
            self._freeze(patients)

    def _freeze(self, patients: int) -> None:
        gc.freeze()
        self._frozen_with = patients
        log.debug(
            "moved %d objects out of the garbage collector's reach (%d patients)", gc.get_freeze_count(), patients
        )
