"""Notifications to coaches: ``outbox`` (stored with the alerts, delivered with retries), ``texts``
(what a notification says) and ``targets`` (the channels, as apprise URLs)."""
