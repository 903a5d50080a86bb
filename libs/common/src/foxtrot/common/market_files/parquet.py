"""Parquet tables read a batch at a time, with their time column as UTC nanoseconds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["parquet_columns", "parquet_rows"]

_BATCH_ROWS = 65_536


def parquet_columns(path: Path) -> list[str]:
    """The column names of a Parquet file, read from its footer."""
    return list(pq.read_schema(path).names)


def parquet_rows(
    path: Path, columns: Sequence[str], time_column: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each row (0-based index, values by column) with ``time_column`` as integer UTC ns.

    A timestamp column of any unit becomes nanoseconds (naive timestamps count as UTC);
    an integer time column is taken to be nanoseconds already.
    """
    missing = sorted(set(columns) - set(parquet_columns(path)))
    if missing:
        raise ValueError(f"{path}: no column {', '.join(missing)} in the Parquet file")
    index = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS, columns=list(columns)):
        values = {name: batch.column(name) for name in columns}
        stamps = values[time_column]
        if pa.types.is_timestamp(stamps.type):
            stamps = pc.cast(stamps, pa.timestamp("ns", tz=stamps.type.tz))
        values[time_column] = pc.cast(stamps, pa.int64())
        lists = {name: column.to_pylist() for name, column in values.items()}
        for offset in range(batch.num_rows):
            if lists[time_column][offset] is None:
                raise ValueError(f"{path}: row {index + offset}: {time_column} is empty")
            yield index + offset, {name: lists[name][offset] for name in columns}
        index += batch.num_rows
