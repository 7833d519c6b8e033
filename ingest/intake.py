"""A batch of messages into the store, where no message can stop the rest.

Every message is validated at the edge (`ingest.records.to_record`); the batch is written in
one transaction. When the database refuses the batch for what a message holds (text it
cannot keep, a number out of a column's range, a key the data breaks: `StoreRefused`), the
batch is split in halves and each half written on its own, down to the one message at fault,
which becomes a dead letter with the database's reason; the rest is stored. One bad message
in 500 costs about 18 transactions. Kafka Connect's ``errors.tolerance`` with its dead-letter
queue, and Telegraf's parse errors that free their slot, do the same.

An outage (`StoreUnavailable`) is not the data's fault: it propagates, and the caller keeps
the messages unacknowledged and tries again. An error of an unknown kind propagates too,
unless ``any_error`` is set: a caller that has seen the batch fail that way several times
sets it, so the message that keeps failing becomes a dead letter instead of a crash loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ingest.records import DeadLetterRow, Record, Records, dead_letter, printable
from ingest.store import Mark, Store, StoreRefused, StoreUnavailable


class Arrived(NamedTuple):
    """A message as it came, and the record it validated to (a dead letter if it broke the contract)."""

    topic: str
    payload: bytes
    record: Record


def store_batch(
    store: Store, batch: Sequence[Arrived], *, received_at: int, any_error: bool = False, mark: Mark | None = None
) -> Records:
    """Write ``batch``; what was written (`Store.write`), with the messages the database refused as
    dead letters, all in arrival order. ``mark``: the replica's commit mark, once all of it is stored."""
    try:
        return store.write(Records.of(a.record for a in batch), received_at=received_at, mark=mark)
    except StoreUnavailable:
        raise
    except StoreRefused as exc:
        cause: Exception = exc
    except Exception as exc:
        if not any_error:
            raise
        cause = exc
    if len(batch) > 1:
        half = len(batch) // 2
        first = store_batch(store, batch[:half], received_at=received_at, any_error=any_error)
        return first.joined(store_batch(store, batch[half:], received_at=received_at, any_error=any_error, mark=mark))
    (topic, payload, record) = batch[0]
    if isinstance(record, DeadLetterRow):
        raise cause  # a dead letter is text any store keeps: refusing one is a bug, not data
    refused = dead_letter(topic, payload, f"store: the database refused it: {printable(str(cause))}")
    return store.write(Records.of([refused]), received_at=received_at, mark=mark)
