"""While serving, the startup heap is left out of collections; what is made later is not."""

import gc
import weakref

from servicekit.heap import startup_heap_frozen


class _Node:
    """Half of a reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> tuple[_Node, weakref.ref]:
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    return first, weakref.ref(first)


def test_frozen_heap_when_startup_garbage_dropped_is_not_walked_until_unfrozen():
    held, startup = _cycle()  # made before serving starts
    with startup_heap_frozen():
        assert gc.get_freeze_count() > 0
        del held  # now garbage, but frozen
        gc.collect()
        assert startup() is not None, "a frozen object was walked by the collector"
        held, while_serving = _cycle()
        del held
        gc.collect()
        assert while_serving() is None, "garbage made while serving must still be collected"
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert startup() is None
