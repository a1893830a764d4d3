"""A stream's bins as columns: what the PostgreSQL reader decodes its packed rows into.

A ``BinTable`` is both a sequence of ``BinRow`` (ordered by bin, one row per bin, as
``StreamSource.bins`` answers) and the engine's ``BinColumns``: numpy arrays of the bins,
counts, first and last points, so that the ~30,000 bins of a ten-year request are decoded
without a Python object per bin and the availability rules run over them as arrays
(ooi_status.availability.engine). Rows are made only when asked for, one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, overload

import numpy as np

from ooi_status.availability.engine import BinColumns
from ooi_status.sources.base import BinRow, bin_row

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: One packed bin: bin, count, first, last as big-endian int8, int8, float8, float8 (PostgreSQL's
#: int8send and float8send).
PACKED_BIN = np.dtype([("bin", ">i8"), ("count", ">i8"), ("first", ">f8"), ("last", ">f8")])


class BinTable(BinColumns, Sequence[BinRow]):
    """One stream's bins, ordered by bin, as columns (native int64 and float64 arrays)."""

    __slots__ = ("bins",)

    def __init__(
        self,
        bins: NDArray[np.int64],
        counts: NDArray[np.int64],
        firsts: NDArray[np.float64],
        lasts: NDArray[np.float64],
    ) -> None:
        super().__init__(firsts, lasts, counts)
        self.bins: NDArray[np.int64] = np.asarray(bins, dtype=np.int64)
        if len(self.bins) != len(self.counts):
            raise ValueError("the columns of bins must have one entry per bin each")

    @classmethod
    def from_packed(cls, by_store: Mapping[str, bytes | memoryview]) -> BinTable:
        """The bins of one stream from its packed rows (``PACKED_BIN`` each) by store, ordered by bin;
        a bin held in several stores counts once, with the row of the first store by name."""
        packed = [np.frombuffer(by_store[store], dtype=PACKED_BIN) for store in sorted(by_store)]
        rows = packed[0] if len(packed) == 1 else np.concatenate(packed)
        bins = rows["bin"].astype(np.int64)
        if len(packed) > 1:
            # np.unique gives the index of each bin's first occurrence: the first store's by name.
            _, chosen = np.unique(bins, return_index=True)
            rows, bins = rows[chosen], bins[chosen]
        elif len(bins) > 1 and not (bins[1:] > bins[:-1]).all():
            order = np.argsort(bins, kind="stable")
            rows, bins = rows[order], bins[order]
        return cls(
            bins,
            rows["count"].astype(np.int64),
            rows["first"].astype(np.float64),
            rows["last"].astype(np.float64),
        )

    @classmethod
    def from_rows(cls, rows: Sequence[BinRow]) -> BinTable:
        """The table of rows given one by one, in their order."""
        return cls(
            np.array([row.bin for row in rows], dtype=np.int64),
            np.array([row.points for row in rows], dtype=np.int64),
            np.array([row.first for row in rows], dtype=np.float64),
            np.array([row.last for row in rows], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.bins)

    @overload
    def __getitem__(self, index: int) -> BinRow: ...
    @overload
    def __getitem__(self, index: slice) -> BinTable: ...
    def __getitem__(self, index: int | slice) -> BinRow | BinTable:
        if isinstance(index, slice):
            return BinTable(self.bins[index], self.counts[index], self.firsts[index], self.lasts[index])
        bins, counts, firsts, lasts = self.bins, self.counts, self.firsts, self.lasts
        return BinRow(int(bins[index]), int(counts[index]), float(firsts[index]), float(lasts[index]))

    def __iter__(self) -> Iterator[BinRow]:
        columns = (self.bins.tolist(), self.counts.tolist(), self.firsts.tolist(), self.lasts.tolist())
        return map(bin_row, zip(*columns, strict=True))

    def __repr__(self) -> str:
        return f"BinTable({list(self)!r})"
