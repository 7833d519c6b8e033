"""A coach's acknowledgement of an alert: stored, then published so other coaches see it.

The message is the contract's ``Ack`` on ``stridewatch/v1/{team}/acks/{athlete}``, QoS 1,
retained (a coach app that connects sees the latest acknowledgement of each athlete).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ingest.payloads import Ack
from ingest.store import Store
from ingest.topics import ack_topic, is_id
from stridewatch.errors import StridewatchError


class AckError(StridewatchError, ValueError):
    """The acknowledgement cannot be taken; the message says why, for the coach."""


class NoSuchAlert(AckError):
    """No alert by that id that this coach may see (another team's answers the same)."""


@dataclass(frozen=True)
class Acknowledgement:
    alert_id: str
    team: str
    athlete: str
    ts: int
    by: str
    note: str | None

    @property
    def topic(self) -> str:
        return ack_topic(self.team, self.athlete)

    def payload(self) -> bytes:
        """The contract's ``Ack`` payload."""
        return self.as_contract().model_dump_json().encode()

    def as_contract(self) -> Ack:
        return Ack(ts=self.ts, alert_id=self.alert_id, athlete=self.athlete, by=self.by, note=self.note)


def record_ack(
    store: Store, alert_id: str, *, by: str, note: str | None, ts: int, teams: frozenset[str] | None = None
) -> Acknowledgement:
    """Store a coach's acknowledgement of ``alert_id`` (at wall-clock ``ts``, epoch ms), if it
    is an alert of one of ``teams`` (None: any team)."""
    rows = store.query("SELECT team, athlete FROM alerts WHERE alert_id = ?", (alert_id,)) if is_id(alert_id) else []
    if not rows or (teams is not None and rows[0][0] not in teams):
        raise NoSuchAlert(f"there is no alert {alert_id!r}")
    if "\x00" in by + (note or ""):  # PostgreSQL cannot store it; no coach types it
        raise AckError("the name or note holds a NUL character")
    team, athlete = rows[0]
    ack = Acknowledgement(alert_id, team, athlete, ts, by.strip(), (note or "").strip() or None)
    try:
        ack.as_contract()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise AckError(f"{first['loc'][0]}: {first['msg']}") from None

    def insert(cur: Any) -> None:
        cur.execute(
            store.sql(
                "INSERT INTO acknowledgements (alert_id, team, athlete, ts, coach, note) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT DO NOTHING"
            ),
            (ack.alert_id, ack.team, ack.athlete, ack.ts, ack.by, ack.note),
        )

    store.transaction(insert)
    return ack


def acks_by_alert(store: Store, *, team: str | None = None) -> dict[str, list[Acknowledgement]]:
    """Every stored acknowledgement, by alert, oldest first."""
    where, params = ("WHERE team = ?", [team]) if team else ("", [])
    rows = store.query(
        f"SELECT alert_id, team, athlete, ts, coach, note FROM acknowledgements {where} ORDER BY ts, coach", params
    )
    out: dict[str, list[Acknowledgement]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(Acknowledgement(*row))
    return out


def ack_changes(store: Store) -> list[tuple[str, int, int]]:
    """Per team, what moves when an acknowledgement is stored: (team, acknowledgements, latest ts)."""
    return store.query("SELECT team, count(*), max(ts) FROM acknowledgements GROUP BY team")
