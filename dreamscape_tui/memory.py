"""The UI process's garbage-collector policy, kept apart from the app that applies it.

Key presses must not wait on full collections of what a scan leaves alive; see
:func:`settle_memory`.
"""

from __future__ import annotations

import gc


def settle_memory() -> None:
    """Collect once, then move what is alive to the GC's permanent generation.

    A scan leaves tens of thousands of long-lived objects (results, metrics, tree
    entries); every full collection would walk them all, a 50-100 ms stall that lands
    on random key presses. Frozen, they are skipped; they are acyclic, so reference
    counting still frees them when a rescan replaces them.
    """
    gc.collect()
    gc.freeze()
