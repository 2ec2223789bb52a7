"""Rate-limit storage for a single server without Redis.

The ``limits`` library's ``memory://`` storage starts a new timer thread on nearly every hit
to sweep expired keys; on the submission path that thread costs more than the count itself.
This one sweeps with one long-lived thread per storage instead. Counts stay per process, as
with ``memory://``; set ``REDIS_URL`` to share them between processes.
"""

from __future__ import annotations

import threading
import time
import weakref

from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["formyard-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        reference = weakref.ref(self)
        threading.Thread(target=_sweep, args=(reference,), daemon=True).start()

    # Called by MemoryStorage on each hit (name-mangled there); the sweeper thread does it.
    def _MemoryStorage__schedule_expiry(self) -> None:
        return None


def _sweep(reference: weakref.ref[SweepingMemoryStorage]) -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        storage = reference()
        if storage is None:
            return
        storage._MemoryStorage__expire_events()
        del storage
