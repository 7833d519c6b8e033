"""Prometheus metrics for operators: one figure per failure a deployment must notice.

Served with ``--metrics-port`` on `stridewatch ingest`, `run` and `score` (the
Prometheus text format on ``/metrics``). Labels stay few and bounded, so hostile input
cannot blow up the series count: a dead letter is counted by its cause, not its reason.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECEIVED = Counter("stridewatch_messages_received", "Messages taken from the broker.")
STORED = Counter("stridewatch_messages_stored", "Valid messages committed to the store.")
DUPLICATES = Counter(
    "stridewatch_messages_duplicate",
    "Valid messages the store already had (redelivered, resent): acknowledged, stored once, folded once.",
)
DEAD_LETTERS = Counter(
    "stridewatch_dead_letters", "Messages rejected and dead-lettered, by cause.", ["cause"]
)  # fmt: skip
STORE_FAILURES = Counter(
    "stridewatch_store_failures",
    "Batches the store could not commit (messages held unacknowledged at the broker), by cause.",
    ["cause"],
)
STORE_AVAILABLE = Gauge("stridewatch_store_available", "1 while the last commit succeeded, 0 while failing.")
BROKER_CONNECTED = Gauge("stridewatch_broker_connected", "1 while connected to the MQTT broker.")
BROKER_DISCONNECTS = Counter("stridewatch_broker_disconnects", "Unexpected disconnections from the broker.")
SCORING_FAILURES = Counter(
    "stridewatch_scoring_failures",
    "Stored batches (run) or feed records (score) that scoring could not take: a bug the data found; "
    "their athletes are scored afresh from the store.",
)
STATES_LOADED = Counter("stridewatch_athlete_states_loaded", "Athletes' scoring states read from their checkpoint.")
STATES_BUILT = Counter(
    "stridewatch_athlete_states_built",
    "Athletes' scoring states built from their stored history, by cause: no checkpoint, one made by other "
    "scoring code or settings, or an event older than the state's reorder window.",
    ["cause"],
)
STATES_IN_MEMORY = Gauge("stridewatch_athlete_states_in_memory", "Athletes whose scoring state is held in memory.")
PARTITIONS_OWNED = Gauge("stridewatch_partitions_owned", "Feed partitions this score worker owns.")
FEED_FOLDED = Counter("stridewatch_feed_records_folded", "Stored records a score worker has folded from the feed.")
FEED_LATE = Counter(
    "stridewatch_feed_records_late",
    "Records folded after a later record of their device: stored more than the reorder window out of order, "
    "or behind a gap the worker could not see (the first records of a device after a takeover).",
)
FEED_GAPS = Counter(
    "stridewatch_feed_gaps",
    "Records a score worker found behind a gap (a batch, a start or a last batch still on its way) and held.",
)
FEED_GAP_WAIT = Histogram(
    "stridewatch_feed_gap_wait_seconds",
    "How long a record held behind a gap waited before it was folded.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
FEED_PAST_DEADLINE = Counter(
    "stridewatch_feed_records_past_deadline",
    "Records folded when their reorder window ended with the gap before them unfilled (its record lost, or later).",
)
FEED_LAG = Gauge(
    "stridewatch_feed_lag_seconds",
    "How long the oldest record a score worker holds behind a gap has waited past its reorder window (0: none).",
)
NOTIFICATIONS_SENT = Counter("stridewatch_notifications_sent", "Notifications delivered to a coach's channel.")
NOTIFICATION_FAILURES = Counter(
    "stridewatch_notification_failures", "Delivery attempts that failed and will be retried, by channel.", ["channel"]
)


def dead_letter_cause(reason: str) -> str:
    """``topic``, ``payload`` (size, UTF-8, JSON), ``clock`` (device clock off) or ``field``."""
    if reason.startswith(("topic:", "payload:")):
        return reason.split(":", 1)[0]
    if "in the future, beyond" in reason or "before 2000-01-01" in reason:
        return "clock"
    return "field"


def serve(port: int) -> None:
    """Expose ``/metrics`` on ``port`` (all interfaces: it is scraped from another container)."""
    start_http_server(port)
