"""The hand-off between paho's network thread and the ingest worker (`ingest.inbox.Inbox`)."""

from __future__ import annotations

import threading
import time

from ingest.inbox import Inbox


def fill(inbox: Inbox, n: int, *, first_mid: int = 1, qos: int = 1) -> None:
    for mid in range(first_mid, first_mid + n):
        inbox.put(mid, qos, "stridewatch/v1/t/a/d/steps", b"{}")


def test_put_never_waits_and_reading_pauses_once_a_window_is_out() -> None:
    inbox = Inbox(window=3)
    fill(inbox, 2)
    assert inbox.has_room()
    fill(inbox, 2, first_mid=3)  # a broker past the Receive Maximum: taken, but no more is read
    assert not inbox.has_room()
    assert inbox.backlog == 4


def test_done_acknowledges_the_batch_in_order_and_reopens_the_window() -> None:
    inbox = Inbox(window=3)
    fill(inbox, 3)
    batch = inbox.take(10, wait_s=0, linger_s=0)
    acks: list[tuple[int, int]] = []
    assert inbox.done(batch, lambda mid, qos: acks.append((mid, qos))) is True  # the window had been full
    assert acks == [(1, 1), (2, 1), (3, 1)]
    assert inbox.has_room()


def test_qos_0_messages_free_their_slot_without_an_ack() -> None:
    inbox = Inbox(window=2)
    fill(inbox, 2, qos=0)
    acks: list[tuple[int, int]] = []
    inbox.done(inbox.take(2, wait_s=0, linger_s=0), lambda mid, qos: acks.append((mid, qos)))
    assert acks == [] and inbox.has_room()


def test_a_lost_connection_drops_what_it_left_queued_and_its_batch_is_never_acknowledged() -> None:
    inbox = Inbox(window=4)
    fill(inbox, 4)
    in_hand = inbox.take(2, wait_s=0, linger_s=0)
    assert inbox.connection_lost() == 2  # the two still queued: the broker sends them again
    assert inbox.backlog == 0 and inbox.has_room()
    fill(inbox, 1, first_mid=1)  # the new connection may reuse a packet id
    acks: list[int] = []
    assert inbox.done(in_hand, lambda mid, _qos: acks.append(mid)) is False
    assert acks == []  # mid 1 on the new connection is not the message in hand
    assert inbox.take(10, wait_s=0, linger_s=0)[0].connection == 1


def test_peak_counts_the_queue_and_the_batch_in_hand() -> None:
    inbox = Inbox(window=3)
    fill(inbox, 3)
    inbox.take(3, wait_s=0, linger_s=0)
    inbox.connection_lost()
    fill(inbox, 3, first_mid=10)
    assert inbox.peak == 6  # two windows: the dead connection's in hand, the live one's queued


def test_take_waits_for_a_first_message_then_lingers_for_a_batch() -> None:
    inbox = Inbox(window=100)
    assert inbox.take(10, wait_s=0.05, linger_s=0.05) == []
    threading.Timer(0.05, fill, (inbox, 3)).start()
    began = time.monotonic()
    batch = inbox.take(10, wait_s=2, linger_s=0.2)
    assert 0.2 <= time.monotonic() - began < 2
    assert [d.mid for d in batch] == [1, 2, 3]


def test_close_wakes_a_waiting_worker_and_refuses_what_comes_after() -> None:
    inbox = Inbox(window=10)
    threading.Timer(0.05, inbox.close).start()
    began = time.monotonic()
    assert inbox.take(10, wait_s=5, linger_s=0) == []
    assert time.monotonic() - began < 1
    fill(inbox, 1)
    assert inbox.backlog == 0
