"""The outbox against real servers: an SMTP server and a webhook get each notification exactly once,
through outages, restarts, replays and quiet hours, on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from prometheus_client import REGISTRY

from ingest.store import Store
from stridewatch.notify.outbox import Backoff, Deliverer, Outbox, OutboxStats
from stridewatch.notify.texts import Kind
from stridewatch.teams import TeamsConfig
from tests.mqtt_helpers import wait_until

pytestmark = pytest.mark.integration
SMTP_PASSWORD = "pw-for-the-test-smtp"
LONDON = ZoneInfo("Europe/London")
NO_JITTER = Backoff(first_s=2.0, max_s=8.0, jitter=0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp() * 1000)


class Mailbox:
    """aiosmtpd handler: keeps every message accepted, and the logins that succeeded."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == SMTP_PASSWORD.encode()
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


class Webhook:
    """A local HTTP endpoint that can be stopped (connection refused) or made to answer 500."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 200
        self.hits = 0
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with hook.lock:
                    hook.hits += 1
                    if hook.status == 200:
                        hook.received.append(payload)
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def titles(self) -> list[str]:
        return [p["title"] for p in self.received]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=box.authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as s:
        s.migrate()
        yield s


@pytest.fixture
def new_store(db_url: str) -> Iterator[Callable[[], Store]]:
    """Another connection to the test's database, as another thread or process would have."""
    opened: list[Store] = []

    def connect() -> Store:
        opened.append(Store(db_url))
        return opened[-1]

    yield connect
    for s in opened:
        s.close()


def teams_file(tmp_path: Path, *, smtp_port: int, webhook: Webhook, quiet: str = "off") -> TeamsConfig:
    path = tmp_path / "teams.toml"
    path.write_text(
        f'[teams.harriers]\nname = "Harriers"\ntimezone = "Europe/London"\nquiet_hours = "{quiet}"\n'
        '[[teams.harriers.coaches]]\nname = "Sam"\n'
        f'notify = ["mailto://alerts:${{SW_TEST_SMTP_PASSWORD}}@127.0.0.1:{smtp_port}'
        '?from=alerts@example.com&to=sam@example.com"]\n'
        f'[[teams.harriers.coaches]]\nname = "Physio"\nnotify = ["{webhook.url}"]\n'
    )
    return TeamsConfig.load(path)


def alert(athlete: str, level: str = "high", *, alert_id: str | None = None) -> dict[str, Any]:
    return {
        "team": "harriers", "athlete": athlete, "ts": 1764230000000, "level": level, "score": 78,
        "state": "raised", "alert_id": alert_id or f"alert-{athlete}",
        "reasons": [{"rule": "acwr_spike", "severity": "high", "value": 1.92, "threshold": 1.5,
                     "message": "7-day load is 1.9x the 28-day load: the load jumped too fast",
                     "advice": "Cut the next sessions back to the usual volume and build up gradually."}],
    }  # fmt: skip


def notify(outbox: Outbox, payload: dict[str, Any], kind: Kind = "raised", *, seq: int = 1, now_ms: int) -> int:
    """The alert lifecycle's side: enqueue in a transaction of its own."""
    return outbox.store.transaction(  # type: ignore[no-any-return]
        lambda cur: outbox.notify_alert_in(cur, payload, kind=kind, seq=seq, now_ms=now_ms)
    )


def hook_only(tmp_path: Path, webhook: Webhook) -> TeamsConfig:
    path = tmp_path / "hook-teams.toml"
    path.write_text(
        f'[teams.harriers]\nname = "Harriers"\n[[teams.harriers.coaches]]\nname = "Physio"\n'
        f'notify = ["{webhook.url}"]\n'
    )
    return TeamsConfig.load(path)


def test_an_alert_reaches_email_and_webhook_once(
    store: Store,
    new_store: Callable[[], Store],
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SW_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    box, port = mailbox
    teams = teams_file(tmp_path, smtp_port=port, webhook=webhook)
    outbox, now = Outbox(store, teams=teams), int(time.time() * 1000)
    assert notify(outbox, alert("a-017"), now_ms=now) == 2
    assert notify(outbox, alert("a-017"), now_ms=now + 5) == 0  # a replayed alert event adds nothing

    deliverer = Deliverer(new_store(), teams=teams)
    assert deliverer.run_once() == 2
    assert deliverer.run_once() == 0

    (mail,) = box.messages
    assert mail["Subject"] == "HIGH risk: a-017 (Harriers)"
    assert mail["To"] == "sam@example.com" and box.logins == ["alerts"]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "7-day load is 1.9x the 28-day load" in text and "What to do: Cut the next sessions back" in text
    (posted,) = webhook.received
    assert (posted["title"], posted["type"]) == ("HIGH risk: a-017 (Harriers)", "warning")
    assert "Risk score 78/100" in posted["message"]
    # The password stays in the environment: the stored target is the URL as written.
    targets = [row[0] for row in store.query("SELECT target FROM notifications")]
    assert not any(SMTP_PASSWORD in t for t in targets) and any("${SW_TEST_SMTP_PASSWORD}" in t for t in targets)
    assert vars(outbox.stats()) == {"pending": 0, "due": 0, "failing": 0, "delivered": 2, "failed_attempts": 0}


def test_cleared_goes_to_whoever_heard_of_the_alert(
    store: Store, new_store: Callable[[], Store], tmp_path: Path, webhook: Webhook
) -> None:
    outbox, now = Outbox(store, teams=hook_only(tmp_path, webhook)), int(time.time() * 1000)
    assert notify(outbox, alert("a-001", "moderate"), now_ms=now) == 0  # below the team's "high"
    assert notify(outbox, alert("a-001", "low"), "cleared", seq=2, now_ms=now) == 0  # nobody was told
    deliverer = Deliverer(new_store(), teams=outbox.teams)
    events: list[tuple[Kind, str, int]] = [("raised", "high", 1), ("escalated", "critical", 2), ("cleared", "low", 3)]
    for kind, level, seq in events:
        assert notify(outbox, alert("a-002", level), kind, seq=seq, now_ms=now) == 1
        assert deliverer.run_once() == 1
    assert webhook.titles() == [
        "HIGH risk: a-002 (Harriers)", "Risk up to CRITICAL: a-002 (Harriers)", "Back to low risk: a-002 (Harriers)"]  # fmt: skip
    assert webhook.received[2]["type"] == "success"


def test_enqueue_commits_or_rolls_back_with_the_callers_transaction(
    store: Store, tmp_path: Path, webhook: Webhook
) -> None:
    outbox = Outbox(store, teams=hook_only(tmp_path, webhook))

    def alert_event_then_failure(cur: Any) -> None:
        outbox.notify_alert_in(cur, alert("a-003"), kind="raised", seq=1, now_ms=1)
        raise RuntimeError("the alert lifecycle failed after enqueueing")

    with pytest.raises(RuntimeError):
        store.transaction(alert_event_then_failure)
    assert outbox.stats(now_ms=2).pending == 0


def test_a_failing_webhook_is_retried_with_backoff_and_delivered_once(
    store: Store, new_store: Callable[[], Store], tmp_path: Path, webhook: Webhook
) -> None:
    outbox = Outbox(store, teams=hook_only(tmp_path, webhook))
    deliverer = Deliverer(new_store(), teams=outbox.teams, backoff=NO_JITTER)
    t0 = 1_800_000_000_000
    notify(outbox, alert("a-004"), now_ms=t0)
    webhook.status = 500

    def next_attempt() -> tuple[int, int, str]:
        ((attempts, at, error),) = store.query("SELECT attempts, next_attempt_at, last_error FROM notifications")
        return attempts, at - t0, error

    assert deliverer.run_once(t0) == 0
    attempts, wait, error = next_attempt()
    assert (attempts, wait) == (1, 2000) and "500" in error
    assert deliverer.run_once(t0 + 1999) == 0 and webhook.hits == 1  # not due yet: no request
    for now, expected in ((2000, 6000), (6000, 14000), (14000, 22000)):  # 2, 4, 8 s, then the 8 s cap
        assert deliverer.run_once(t0 + now) == 0
        assert next_attempt()[1] == expected
    assert outbox.stats(now_ms=t0 + 14000) == OutboxStats(pending=1, due=0, failing=1, delivered=0, failed_attempts=4)
    webhook.status = 200
    assert deliverer.run_once(t0 + 22000) == 1
    assert deliverer.run_once(t0 + 60000) == 0
    assert webhook.hits == 5 and webhook.titles() == ["HIGH risk: a-004 (Harriers)"]


def notification_failures() -> float:
    return REGISTRY.get_sample_value("stridewatch_notification_failures_total", {"channel": "json"}) or 0.0


def test_a_webhook_down_for_a_while_gets_the_notification_once_back(
    store: Store, new_store: Callable[[], Store], tmp_path: Path, webhook: Webhook
) -> None:
    webhook.stop()  # nothing listens: connection refused
    failures_before = notification_failures()
    outbox = Outbox(store, teams=hook_only(tmp_path, webhook))
    notify(outbox, alert("a-005"), now_ms=int(time.time() * 1000))
    fast = Backoff(first_s=0.05, max_s=0.2, jitter=0.5)
    with Deliverer(new_store(), teams=outbox.teams, backoff=fast, poll_s=0.02) as deliverer:
        wait_until(lambda: outbox.stats().failed_attempts >= 3, timeout=10, what="three failed attempts")
        webhook.start()
        wait_until(lambda: outbox.stats().delivered == 1, timeout=10, what="delivery once the webhook is back")
        time.sleep(0.3)  # several more passes: nothing is sent again
        assert deliverer.health()["alive"]
    assert webhook.titles() == ["HIGH risk: a-005 (Harriers)"]
    assert deliverer.failed_attempts >= 3 and deliverer.sent == 1
    assert notification_failures() - failures_before == deliverer.failed_attempts  # the operator's metric


def test_a_restart_mid_outbox_loses_and_duplicates_nothing(
    store: Store, new_store: Callable[[], Store], tmp_path: Path, webhook: Webhook
) -> None:
    teams = hook_only(tmp_path, webhook)
    athletes = [f"a-{i:03d}" for i in range(5)]
    for i, athlete in enumerate(athletes):
        notify(Outbox(store, teams=teams), alert(athlete), now_ms=1_800_000_000_000 + 1000 * i)
    first = Deliverer(new_store(), teams=teams)
    assert first.run_once(1_800_000_001_500) == 2  # the first two are due
    first.store.close()  # the process ends

    with Store(store.url) as again:  # a new process on the same database replays the alert events
        outbox = Outbox(again, teams=teams)
        assert sum(notify(outbox, alert(a), now_ms=1_800_000_010_000) for a in athletes) == 0
        second = Deliverer(new_store(), teams=teams)
        assert second.run_once(1_800_000_010_000) == 3
        assert outbox.stats(now_ms=1_800_000_010_000).delivered == 5
    assert sorted(webhook.titles()) == sorted(f"HIGH risk: {a} (Harriers)" for a in athletes)
    assert len(webhook.titles()) == 5


def test_quiet_hours_hold_notifications_for_one_digest_critical_goes_at_once(
    store: Store,
    new_store: Callable[[], Store],
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SW_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    box, port = mailbox
    teams = teams_file(tmp_path, smtp_port=port, webhook=webhook, quiet="22:00-07:00")
    outbox, deliverer = Outbox(store, teams=teams), Deliverer(new_store(), teams=teams, backoff=NO_JITTER)
    notify(outbox, alert("a-001"), now_ms=local_ms("2026-01-15 23:30"))
    notify(outbox, alert("a-002", "critical"), now_ms=local_ms("2026-01-15 23:40"))
    notify(outbox, alert("a-003"), now_ms=local_ms("2026-01-16 02:15"))

    assert deliverer.run_once(local_ms("2026-01-16 02:16")) == 2  # the critical one, to both targets
    assert deliverer.run_once(local_ms("2026-01-16 06:59")) == 0
    webhook.status = 500
    assert deliverer.run_once(local_ms("2026-01-16 07:00")) == 2  # two held, as one email
    webhook.status = 200
    assert deliverer.run_once(local_ms("2026-01-16 07:00") + 2000) == 2  # and, retried as one, one webhook call

    assert [m["Subject"] for m in box.messages] == [
        "CRITICAL risk: a-002 (Harriers)",
        "2 risk notifications (Harriers)",
    ]
    assert webhook.titles() == ["CRITICAL risk: a-002 (Harriers)", "2 risk notifications (Harriers)"]
    digest = webhook.received[1]["message"]
    assert digest.index("23:30 HIGH risk: a-001 (Harriers)") < digest.index("02:15 HIGH risk: a-003 (Harriers)")
    assert "a-001" in box.messages[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert webhook.hits == 3


def test_deliverers_racing_on_one_outbox_send_each_notification_once(
    store: Store, new_store: Callable[[], Store], tmp_path: Path, webhook: Webhook
) -> None:
    teams = hook_only(tmp_path, webhook)
    athletes = [f"a-{i:03d}" for i in range(30)]
    for athlete in athletes:
        notify(Outbox(store, teams=teams), alert(athlete), now_ms=1_800_000_000_000)
    replicas = [Deliverer(new_store(), teams=teams) for _ in range(3)]
    sent: list[int] = []
    threads = [threading.Thread(target=lambda d=d: sent.append(d.run_once(1_800_000_000_000))) for d in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == 30
    assert sorted(webhook.titles()) == sorted(f"HIGH risk: {a} (Harriers)" for a in athletes)
