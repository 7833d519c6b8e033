"""The notification outbox: coach notifications stored with the alerts, sent by a `Deliverer`.

Writing: `Outbox.notify_alert_in` (or the lower-level `Outbox.enqueue_in`) inserts one row per
target in the caller's transaction, so an alert event and its notifications commit together.
The dedupe key is (alert id, event seq, kind, target): replaying alert events enqueues nothing
new (``ON CONFLICT DO NOTHING``).

Sending: `Deliverer.run_once` takes the due rows (``delivered_at IS NULL AND next_attempt_at
<= now``), claims each target's rows with a short lease (so replicas never send the same row
at once), sends them through apprise (one ``apprise.Apprise`` per target URL, the URL's
``${VARS}`` expanded at send time) and marks them delivered; a failure adds an attempt,
records the error and retries after an exponential, jittered `Backoff`. Rows live in the
database, so a restart resumes where the last run stopped.

Delivery is at least once: only a crash (or a database outage longer than the mark's retries)
between the service accepting a message and the ``UPDATE`` that marks it delivered resends
it, after the lease. Channel outages, restarts between deliveries and replayed alert events
deliver each notification exactly once.

Quiet hours: a notification created during the team's quiet hours (unless critical) is due at
their end, and a target's rows held to that moment go as one digest message, each item with its
local time; a digest that fails is retried as one. Other rows go one message each.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import apprise

from ingest import metrics
from ingest.store import Store, StoreUnavailable
from stridewatch.notify.targets import apprise_plugins, apprise_warnings, expand_env, redact, target_label
from stridewatch.notify.texts import KINDS, Kind, format_digest, format_notification
from stridewatch.teams import TeamsConfig

__all__ = ["Backoff", "Deliverer", "Outbox", "OutboxStats"]

log = logging.getLogger("stridewatch.notify.outbox")


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Retry delays: ``first_s`` doubling up to ``max_s``, each shortened by up to ``jitter`` (a
    fraction) so that targets failing together do not retry in lockstep."""

    first_s: float = 2.0
    max_s: float = 600.0
    jitter: float = 0.2

    def delay_ms(self, failures: int, rng: random.Random) -> int:
        """The wait after the ``failures``-th failure in a row (1, 2, ...)."""
        base = min(self.max_s, self.first_s * 2 ** min(failures - 1, 40))
        return int(1000 * base * rng.uniform(1 - self.jitter, 1))


@dataclass(frozen=True)
class OutboxStats:
    """Counts over the whole outbox (every replica, every run)."""

    pending: int  # not delivered yet
    due: int  # pending and due now
    failing: int  # pending after at least one failed attempt
    delivered: int
    failed_attempts: int  # per notification: a failed digest of three counts three


class _Row(NamedTuple):
    id: int
    team: str
    kind: str
    target: str
    title: str
    body: str
    created_at: int
    attempts: int
    next_attempt_at: int


def _dedupe_key(alert_id: str, seq: int, kind: str, target: str) -> str:
    # The target is hashed: URLs are long, and the key should not repeat one written with a secret.
    return f"{alert_id}/{seq}/{kind}/{hashlib.sha256(target.encode()).hexdigest()[:24]}"


class Outbox:
    """Writes notifications; `stats` reads the outbox's counts."""

    def __init__(self, store: Store, *, teams: TeamsConfig | None = None) -> None:
        self.store = store
        self.teams = teams or TeamsConfig.default()

    def notify_alert_in(self, cur: Any, alert: Mapping[str, Any], *, kind: Kind, seq: int, now_ms: int) -> int:
        """Enqueue what the team's coaches should hear of one alert event; returns the rows added.

        ``alert`` is the contract's payload, ``seq`` its ``alert_events`` seq. A raised or
        escalated alert goes to every coach of the team when its level reaches the team's
        ``notify_min_level``; a cleared one goes to the targets that were told about the alert.
        """
        team = self.teams.team(alert["team"])
        if kind == "cleared":
            cur.execute(
                self.store.sql(
                    "SELECT target FROM notifications WHERE alert_id = ? AND kind <> 'cleared' "
                    "GROUP BY target ORDER BY min(id)"
                ),
                (alert["alert_id"],),
            )
            targets: Sequence[str] = [row[0] for row in cur.fetchall()]
        elif team.notifies(alert["level"]):
            targets = team.targets
        else:
            return 0
        title, body = format_notification(alert, kind, team_name=team.name)
        return self.enqueue_in(
            cur, team=alert["team"], athlete=alert["athlete"], alert_id=alert["alert_id"], seq=seq, kind=kind,
            level=alert["level"], targets=targets, title=title, body=body, now_ms=now_ms,
        )  # fmt: skip

    def enqueue_in(
        self,
        cur: Any,
        *,
        team: str,
        athlete: str,
        alert_id: str,
        seq: int,
        kind: Kind,
        level: str,
        targets: Iterable[str],
        title: str,
        body: str,
        now_ms: int,
    ) -> int:
        """Insert one row per target in the caller's transaction; returns the rows added (0 on replay).

        ``targets`` are URLs as written in ``teams.toml`` (``${VARS}`` unexpanded). The row is
        due now, or at the end of the team's quiet hours unless ``level`` is critical.
        """
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r}: expected one of {KINDS}")
        due = self.teams.team(team).hold_until(now_ms, level) or now_ms
        statement = self.store.sql(
            "INSERT INTO notifications (dedupe_key, team, athlete, alert_id, kind, target, title, body, created_at, "
            "next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (dedupe_key) DO NOTHING"
        )
        added = 0
        for target in dict.fromkeys(targets):
            key = _dedupe_key(alert_id, seq, kind, target)
            cur.execute(statement, (key, team, athlete, alert_id, kind, target, title, body, now_ms, due))
            added += max(cur.rowcount, 0)
        return added

    def enqueue(self, **fields: Any) -> int:
        """`enqueue_in` in a transaction of its own."""
        return self.store.transaction(lambda cur: self.enqueue_in(cur, **fields))  # type: ignore[no-any-return]

    def stats(self, now_ms: int | None = None) -> OutboxStats:
        now = _now_ms() if now_ms is None else now_ms
        (row,) = self.store.query(
            "SELECT coalesce(sum(CASE WHEN delivered_at IS NULL THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN delivered_at IS NULL AND next_attempt_at <= ? THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN delivered_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END), 0), coalesce(sum(attempts), 0) "
            "FROM notifications",
            (now,),
        )
        pending, due, failing, delivered, attempts = (int(v) for v in row)
        return OutboxStats(pending, due, failing, delivered, attempts - delivered)


class Deliverer:
    """Sends due notifications: `run_once` for one pass, `start`/`stop` for a background thread.

    Give it a `Store` of its own (a store is used by one thread). ``lease_s`` must exceed the
    longest send (apprise's own timeouts are 4-15 s); a claimed row whose deliverer died is
    retried when the lease ends.
    """

    def __init__(
        self,
        store: Store,
        *,
        teams: TeamsConfig | None = None,
        backoff: Backoff = Backoff(),
        batch: int = 200,
        lease_s: float = 300.0,
        poll_s: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.teams = teams or TeamsConfig.default()
        self.backoff = backoff
        self.batch = batch
        self.lease_ms = int(lease_s * 1000)
        self.poll_s = poll_s
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0  # notifications delivered by this instance
        self.failed_attempts = 0  # by this instance
        self.last_pass_ms: int | None = None
        self.error: str | None = None

    # -- one pass -------------------------------------------------------------------------
    def run_once(self, now_ms: int | None = None) -> int:
        """Send what is due at ``now_ms`` (default: the clock); returns the notifications delivered."""
        now = _now_ms() if now_ms is None else now_ms
        groups: dict[tuple[str, str, int], list[_Row]] = {}
        for row in self._due(now):
            # Rows held to the same moment (a quiet period's end, or a digest's retry) go as one message.
            held = row.next_attempt_at != row.created_at
            groups.setdefault((row.team, row.target, row.next_attempt_at if held else -row.id), []).append(row)
        delivered = 0
        for rows in groups.values():
            if self._stop.is_set():
                break
            claimed = self._claim(rows, now)
            if claimed:
                delivered += self._deliver(claimed, now)
        self.last_pass_ms = now
        return delivered

    def _due(self, now: int) -> list[_Row]:
        rows = self.store.query(
            "SELECT id, team, kind, target, title, body, created_at, attempts, next_attempt_at FROM notifications "
            "WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
            (now, self.batch),
        )
        return [_Row(*row) for row in rows]

    def _claim(self, rows: list[_Row], now: int) -> list[_Row]:
        """The rows this deliverer may send: moving ``next_attempt_at`` on from the value read
        succeeds for one deliverer only."""
        statement = self.store.sql(
            "UPDATE notifications SET next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL AND next_attempt_at = ?"
        )

        def work(cur: Any) -> list[_Row]:
            claimed = []
            for row in rows:
                cur.execute(statement, (now + self.lease_ms, row.id, row.next_attempt_at))
                if cur.rowcount == 1:
                    claimed.append(row)
            return claimed

        return self.store.transaction(work)  # type: ignore[no-any-return]

    def _deliver(self, rows: list[_Row], now: int) -> int:
        team = self.teams.team(rows[0].team)
        target = rows[0].target
        if len(rows) == 1:
            title, body = rows[0].title, rows[0].body
        else:
            items = [(r.title, r.body, r.created_at) for r in sorted(rows, key=lambda r: r.created_at)]
            title, body = format_digest(items, team_name=team.name, timezone=team.timezone)
        cleared = all(r.kind == "cleared" for r in rows)
        error = self._send(target, title, body, apprise.NotifyType.SUCCESS if cleared else apprise.NotifyType.WARNING)
        ids = [(r.id,) for r in rows]
        if error is None:
            self._mark(
                "UPDATE notifications SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?",
                [(now, *i) for i in ids],
            )
            self.sent += len(rows)
            metrics.NOTIFICATIONS_SENT.inc(len(rows))
            log.info(
                "notified", extra={"team": team.team_id, "target": target_label(target), "notifications": len(rows)}
            )
            return len(rows)
        failures = max(r.attempts for r in rows) + 1
        delay = self.backoff.delay_ms(failures, self._rng)
        # One next attempt for the whole group keeps a digest together on its retry.
        self._mark(
            "UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
            [(error, now + delay, *i) for i in ids],
        )
        self.failed_attempts += 1
        metrics.NOTIFICATION_FAILURES.labels(target.split(":", 1)[0]).inc()
        log.warning(
            "notification not delivered, will retry",
            extra={"team": team.team_id, "target": target_label(target), "notifications": len(rows),
                   "attempts": failures, "retry_in_s": round(delay / 1000, 1), "error": error},
        )  # fmt: skip
        return 0

    def _send(self, target: str, title: str, body: str, notify_type: apprise.NotifyType) -> str | None:
        """Send through apprise; None on success, else why not (no secrets)."""
        try:
            url = expand_env(target)
        except ValueError as exc:
            return str(exc)
        apprise_plugins()
        sender = apprise.Apprise()
        try:
            with apprise_warnings(target) as warnings:
                ok = sender.add(url) and sender.notify(
                    body=body, title=title, notify_type=notify_type, body_format=apprise.NotifyFormat.TEXT
                )
        except Exception as exc:  # a plugin's bug is this target's failure, not the deliverer's end
            return redact(f"{type(exc).__name__}: {exc}", target)[:500]
        if ok:
            return None
        return "; ".join(warnings)[:500] or "the service did not accept the notification"

    def _mark(self, statement: str, params: list[tuple[Any, ...]]) -> None:
        """Record a result, retrying a short database outage: once a message is sent, losing
        this write is what would send it twice."""
        sql = self.store.sql(statement)
        for attempt in range(5):
            try:
                self.store.transaction(lambda cur: cur.executemany(sql, params))
                return
            except StoreUnavailable:
                if attempt == 4:
                    raise
                time.sleep(1.0)

    # -- background thread ----------------------------------------------------------------
    def start(self) -> Deliverer:
        """Run passes every ``poll_s`` in a daemon thread until `stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="stridewatch-deliverer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the send in progress, then stop and close the store (it reopens if used again)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.store.close()

    def __enter__(self) -> Deliverer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                self.error = None
            except StoreUnavailable as exc:  # the database comes back; the rows wait for it
                self.error = str(exc)
                log.warning("outbox database unavailable", extra={"error": str(exc)})
            except Exception as exc:
                # A bug: stop loudly rather than loop on it; health() shows it.
                self.error = repr(exc)
                log.exception("deliverer stopped")
                raise
            self._stop.wait(self.poll_s)

    def health(self) -> dict[str, Any]:
        """For a health endpoint: thread state, this instance's counters, the outbox's counts."""
        with Store(self.store.url) as store:  # the deliverer's own store belongs to its thread
            stats = Outbox(store).stats()
        return {
            "alive": self._thread is not None and self._thread.is_alive(),
            "last_pass_ms": self.last_pass_ms,
            "error": self.error,
            "sent": self.sent,
            "failed_attempts": self.failed_attempts,
            **vars(stats),
        }
