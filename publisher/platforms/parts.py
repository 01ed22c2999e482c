"""A file cut into numbered parts, for platforms that cannot say which parts they have.

Douyin and Kuaishou offer no call that lists the parts received, so the client keeps its
own list of acknowledged part numbers in the job's state. A part whose answer was lost
is not in that list and is simply sent again: the platform keeps the last copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    """``size`` bytes in parts of ``part_size``, numbered from ``first``."""

    size: int
    part_size: int
    first: int  # Douyin numbers parts from 1, Kuaishou fragments from 0

    @property
    def count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    @property
    def numbers(self) -> range:
        return range(self.first, self.first + self.count)

    def span(self, number: int) -> tuple[int, int]:
        """Return (offset, length) of part ``number``; the last part is the short one."""
        offset = (number - self.first) * self.part_size
        return offset, min(self.part_size, self.size - offset)

    def pending(self, done: Iterable[int]) -> list[int]:
        acknowledged = set(done)
        return [n for n in self.numbers if n not in acknowledged]

    def acknowledged(self, done: Iterable[int]) -> int:
        """Return how many bytes the acknowledged parts hold."""
        return sum(self.span(n)[1] for n in set(done))
