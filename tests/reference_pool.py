"""Slow pure-Python twin of engine/pool.py (sync.Pool), written from src/sync/pool.go.

Lists instead of rings: ``shared[p]`` is a deque whose right end is the head
(pushHead/popHead) and left end the tail (popTail).
"""

from __future__ import annotations

from collections import deque

PRIVATE, SHARED, STOLEN, VICTIM, NEW = range(5)


class RefPool:
    def __init__(self, P: int, victim: bool = True) -> None:
        self.P = P
        self.victim_on = victim
        self.private: list[int | None] = [None] * P
        self.shared: list[deque[int]] = [deque() for _ in range(P)]
        self.vprivate: list[int | None] = [None] * P
        self.vshared: list[deque[int]] = [deque() for _ in range(P)]
        self.victim_size = 0
        self.pinned = False

    def put(self, p: int, x: int) -> None:
        self.pinned = True
        if self.private[p] is None:
            self.private[p] = x
        else:
            self.shared[p].append(x)

    def get(self, p: int) -> tuple[int | None, int]:
        self.pinned = True
        x = self.private[p]
        self.private[p] = None
        if x is not None:
            return x, PRIVATE
        if self.shared[p]:
            return self.shared[p].pop(), SHARED
        for i in range(self.P):
            q = (p + i + 1) % self.P
            if self.shared[q]:
                return self.shared[q].popleft(), STOLEN
        size = self.victim_size
        if p >= size:
            return None, NEW
        x = self.vprivate[p]
        if x is not None:
            self.vprivate[p] = None
            return x, VICTIM
        for i in range(size):
            q = (p + i) % size
            if self.vshared[q]:
                return self.vshared[q].popleft(), VICTIM
        self.victim_size = 0
        return None, NEW

    def cleanup(self) -> list[int]:
        """poolCleanup; returns the objects dropped."""
        dropped = [x for x in self.vprivate if x is not None]
        for d in self.vshared:
            dropped.extend(d)
        if self.victim_on:
            self.vprivate = self.private
            self.vshared = self.shared
            self.victim_size = self.P if self.pinned else 0
        else:
            dropped += [x for x in self.private if x is not None]
            for d in self.shared:
                dropped.extend(d)
            self.vprivate = [None] * self.P
            self.vshared = [deque() for _ in range(self.P)]
            self.victim_size = 0
        self.private = [None] * self.P
        self.shared = [deque() for _ in range(self.P)]
        self.pinned = False
        return dropped

    def contents(self) -> list[int]:
        out = [x for x in self.private + self.vprivate if x is not None]
        for d in self.shared + self.vshared:
            out.extend(d)
        return out
