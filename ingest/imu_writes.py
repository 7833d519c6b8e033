"""The imu stream inside the store's transaction: raw batches kept, their steps detected and stored with them.

`write_imu` runs in `Store.write`'s transaction, before the step batches are written, so a
batch, the steps detected from it and the stream's detection state commit together or
not at all: a consumer killed at any moment loses nothing and detects nothing twice (a
redelivered batch is already stored and is not detected again).

Per session stream (team, athlete, device, session_id) one ``imu_streams`` row holds the
`StreamState`; it is locked for the transaction (PostgreSQL: ``FOR UPDATE``, SQLite:
the write lock), so replicas sharing the subscription take a session's batches in turn.
Batches that wait for a predecessor are stored with ``detected = 0``; when a device starts
a session, its earlier sessions' waiting batches are detected with their gaps (`StreamState.advance`'s
``force``). A `StateCache`
keeps the states this connection wrote last: a stream whose stored bytes are still those
is not decoded again (another replica's write, or a rolled-back one, changes the bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ingest.imu import samples
from ingest.imu.stream import RawBatch, StreamState
from ingest.records import ImuBatchRow, Records, SessionRow, detected_steps

SessionKey = tuple[str, str, str, str]
KEYS_PER_QUERY = 1000
CACHED_STREAMS = 20_000


class StateCache:
    """The last state written per stream, with its bytes; the oldest go past ``CACHED_STREAMS``."""

    def __init__(self) -> None:
        self._states: dict[SessionKey, tuple[bytes, StreamState]] = {}

    def get(self, key: SessionKey, blob: bytes) -> StreamState | None:
        found = self._states.get(key)
        return found[1] if found is not None and found[0] == blob else None

    def put(self, key: SessionKey, blob: bytes, state: StreamState) -> None:
        self._states.pop(key, None)
        self._states[key] = (blob, state)
        if len(self._states) > CACHED_STREAMS:
            del self._states[next(iter(self._states))]


def write_imu(
    cur: Any,
    r: Records,
    new: list[ImuBatchRow],
    *,
    sql: Callable[[str], str],
    lock: str,
    cache: StateCache,
    received_at: int,
) -> None:
    """Store the ``new`` imu batches of ``r`` and the steps detected now (added to ``r``); settle ended streams."""
    ends: dict[SessionKey, SessionRow] = {_key(s): s for s in r.sessions if s.event == "end"}
    # With the end in this commit, or stored: the settling waits for the samples to reach it.
    arriving: dict[SessionKey, list[ImuBatchRow]] = {}
    for row in new:
        arriving.setdefault(_key(row), []).append(row)
    keys = [*arriving, *(k for k in ends if k not in arriving)]
    if not keys:
        return
    # A row to lock before reading it, so that two replicas never start the same stream twice.
    cur.executemany(
        sql("INSERT INTO imu_streams (team, athlete, device, session_id, state, held, updated_at) "
            "VALUES (?,?,?,?,?,0,?) ON CONFLICT DO NOTHING"),
        [(*k, b"", received_at) for k in arriving],
    )  # fmt: skip
    streams = _streams(cur, keys, sql, lock)
    # A device's new session: what its earlier sessions still wait for will not come.
    superseded = {old: rows[0] for key, rows in arriving.items() if not streams[key][0]
                  for old in _waiting_sessions(cur, key, sql) if old not in streams}  # fmt: skip
    streams |= _streams(cur, list(superseded), sql, lock)
    stored, processed, states, placed = [], [], [], []
    for key, (blob, stored_end) in streams.items():
        batches = arriving.get(key, [])
        if not blob and not batches:
            continue  # an end with nothing ever admitted
        state = cache.get(key, blob) or (StreamState.decode(blob) if blob else StreamState.start(_raw(batches[0])))
        held = _held(cur, key, sql) if state.held else []
        admitted: list[ImuBatchRow] = []
        for row in batches:
            reason = state.admit(_raw(row), held + [_raw(a) for a in admitted])
            if reason is None:
                admitted.append(row)
            else:
                r.reject(row, reason)
        if not admitted and key not in ends and key not in superseded:
            continue
        waiting = held + [_raw(a) for a in admitted]
        previous = (
            _previous_seq(cur, key, min(b.seq for b in waiting), sql) if waiting and state.last_ms is None else None
        )
        end_ms = ends[key].ts if key in ends else stored_end
        results, waiting = state.advance(waiting, end_ms=end_ms, previous_seq=previous, force=key in superseded)
        still = {b.seq for b in waiting}
        stored += [_insert(row, detected=row.seq not in still, received_at=received_at) for row in admitted]
        processed += [(*key, b.seq) for b in held if b.seq not in still]
        encoded = state.encode()
        cache.put(key, encoded, state)
        states.append((encoded, state.held, received_at, *key))
        rows = [detected_steps(key, seq, steps) for seq, steps in results]
        if rows:
            placed.append((ends.get(key) or (admitted[-1] if admitted else superseded[key]), key in ends, rows))
    r.detected(placed)
    if stored:
        cur.executemany(
            sql("INSERT INTO imu_batches (team, athlete, device, seq, session_id, first_ts, last_ts, n_samples, "
                "rate_hz, unit, scale, placement, side, data, offsets, detected, received_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"),
            stored,
        )  # fmt: skip
    if processed:
        cur.executemany(
            sql(
                "UPDATE imu_batches SET detected = 1 WHERE team = ? AND athlete = ? AND device = ? AND session_id = ? "
                "AND seq = ?"
            ),
            processed,
        )
    if states:
        cur.executemany(
            sql("UPDATE imu_streams SET state = ?, held = ?, updated_at = ? WHERE team = ? AND athlete = ? "
                "AND device = ? AND session_id = ?"),
            states,
        )  # fmt: skip


def _key(row: ImuBatchRow | SessionRow) -> SessionKey:
    return (row.team, row.athlete, row.device, row.session_id)


def _raw(row: ImuBatchRow) -> RawBatch:
    return RawBatch(row.seq, row.first_ts, row.last_ts, row.rate_hz, row.placement, row.side, row.xyz_g, row.offsets)


def _insert(row: ImuBatchRow, *, detected: bool, received_at: int) -> tuple[Any, ...]:
    return (row.team, row.athlete, row.device, row.seq, row.session_id, row.first_ts, row.last_ts, row.n_samples,
            row.rate_hz, row.unit, row.scale, row.placement, row.side, row.data, row.offsets_ms, int(detected),
            received_at)  # fmt: skip


def _streams(
    cur: Any, keys: list[SessionKey], sql: Callable[[str], str], lock: str
) -> dict[SessionKey, tuple[bytes, int | None]]:
    """Each stream's state (empty when just created) and its session's stored end time; locked."""
    out: dict[SessionKey, tuple[bytes, int | None]] = {}
    for i in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[i : i + KEYS_PER_QUERY]
        arms = " OR ".join(["(i.team = ? AND i.athlete = ? AND i.device = ? AND i.session_id = ?)"] * len(chunk))
        cur.execute(
            sql("SELECT i.team, i.athlete, i.device, i.session_id, i.state, s.end_ts FROM imu_streams i "
                "LEFT JOIN sessions s ON s.team = i.team AND s.athlete = i.athlete AND s.device = i.device "
                f"AND s.session_id = i.session_id WHERE {arms}{lock}"),
            [v for k in chunk for v in k],
        )  # fmt: skip
        out.update({tuple(row[:4]): (bytes(row[4]), None if row[5] is None else int(row[5])) for row in cur.fetchall()})
    return out


def _waiting_sessions(cur: Any, key: SessionKey, sql: Callable[[str], str]) -> list[SessionKey]:
    """The device's other sessions with batches still held."""
    cur.execute(
        sql("SELECT team, athlete, device, session_id FROM imu_streams WHERE team = ? AND athlete = ? AND device = ? "
            "AND held > 0 AND session_id <> ?"),
        key,
    )  # fmt: skip
    return [(t, a, d, s) for t, a, d, s in cur.fetchall()]


def _previous_seq(cur: Any, key: SessionKey, seq: int, sql: Callable[[str], str]) -> int | None:
    """The device's highest stored imu seq below ``seq``: its last batch before this session's first."""
    cur.execute(
        sql("SELECT max(seq) FROM imu_batches WHERE team = ? AND athlete = ? AND device = ? AND seq < ?"),
        (*key[:3], seq),
    )
    found = cur.fetchone()[0]
    return None if found is None else int(found)


def _held(cur: Any, key: SessionKey, sql: Callable[[str], str]) -> list[RawBatch]:
    cur.execute(
        sql("SELECT seq, first_ts, last_ts, rate_hz, unit, scale, placement, side, data, offsets FROM imu_batches "
            "WHERE team = ? AND athlete = ? AND device = ? AND session_id = ? AND detected = 0"),
        key,
    )  # fmt: skip
    return [
        RawBatch(seq, first, last, rate, placement, side, samples.unpack(bytes(data), unit, scale),
                 None if offsets is None else np.frombuffer(bytes(offsets), dtype="<f8"))
        for seq, first, last, rate, unit, scale, placement, side, data, offsets in cur.fetchall()
    ]  # fmt: skip
