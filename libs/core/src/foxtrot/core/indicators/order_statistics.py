"""A multiset of floats that says how many of them, and what sum, lie below a bound.

CCI needs the mean absolute deviation of a window around the window's own mean. That mean
moves with every input, so no running sum gives the deviation; it needs the count and the
sum of the window's values below the mean, which this treap (a binary search tree kept
balanced by random priorities) answers in O(log n), as it adds and removes values. Subtree
sums are recomputed from the children at every change, so they never drift. The priorities
come from a fixed-seed generator: the tree's shape, and so the rounding of its sums, is the
same on every run.
"""

from __future__ import annotations

__all__ = ["OrderedMultiset"]

_MASK = (1 << 64) - 1
_SEED = 0x9E3779B97F4A7C15


class _Node:
    __slots__ = ("key", "left", "priority", "right", "size", "total")

    def __init__(self, key: float, priority: int) -> None:
        self.key = key
        self.priority = priority
        self.left: _Node | None = None
        self.right: _Node | None = None
        self.size = 1
        self.total = key


def _refresh(node: _Node) -> None:
    left, right = node.left, node.right
    size, total = 1, node.key
    if left is not None:
        size += left.size
        total = left.total + total
    if right is not None:
        size += right.size
        total = total + right.total
    node.size = size
    node.total = total


def _split(
    node: _Node | None, bound: float, *, inclusive: bool
) -> tuple[_Node | None, _Node | None]:
    """(keys below ``bound`` (or equal, if ``inclusive``), the other keys)."""
    if node is None:
        return None, None
    if node.key < bound or (inclusive and node.key == bound):
        lower, upper = _split(node.right, bound, inclusive=inclusive)
        node.right = lower
        _refresh(node)
        return node, upper
    lower, upper = _split(node.left, bound, inclusive=inclusive)
    node.left = upper
    _refresh(node)
    return lower, node


def _merge(lower: _Node | None, upper: _Node | None) -> _Node | None:
    """One tree of ``lower``'s keys then ``upper``'s (every key of lower <= every key of upper)."""
    if lower is None:
        return upper
    if upper is None:
        return lower
    if lower.priority > upper.priority:
        lower.right = _merge(lower.right, upper)
        _refresh(lower)
        return lower
    upper.left = _merge(lower, upper.left)
    _refresh(upper)
    return upper


class OrderedMultiset:
    """Floats with O(log n) add, remove, and count-and-sum below a bound."""

    __slots__ = ("_root", "_state")

    def __init__(self) -> None:
        self._root: _Node | None = None
        self._state = _SEED

    def __len__(self) -> int:
        return 0 if self._root is None else self._root.size

    @property
    def total(self) -> float:
        """The sum of every value."""
        return 0.0 if self._root is None else self._root.total

    def clear(self) -> None:
        """Remove every value (and restart the priorities, so what follows rounds as in a
        new multiset)."""
        self._root = None
        self._state = _SEED

    def add(self, key: float) -> None:
        """Add one value."""
        # A 64-bit linear congruential step: cheap, deterministic priorities.
        self._state = (self._state * 6364136223846793005 + 1442695040888963407) & _MASK
        lower, upper = _split(self._root, key, inclusive=False)
        self._root = _merge(_merge(lower, _Node(key, self._state >> 16)), upper)

    def remove(self, key: float) -> None:
        """Remove one value equal to ``key``; a KeyError if there is none."""
        lower, rest = _split(self._root, key, inclusive=False)
        equal, upper = _split(rest, key, inclusive=True)
        if equal is None:
            self._root = _merge(lower, upper)
            raise KeyError(key)
        equal = _merge(equal.left, equal.right)
        self._root = _merge(_merge(lower, equal), upper)

    def below(self, bound: float) -> tuple[int, float]:
        """How many values are below ``bound``, and their sum."""
        count, total = 0, 0.0
        node = self._root
        while node is not None:
            if node.key < bound:
                left = node.left
                if left is not None:
                    count += left.size
                    total += left.total
                count += 1
                total += node.key
                node = node.right
            else:
                node = node.left
        return count, total
