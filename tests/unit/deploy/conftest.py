from __future__ import annotations

import pytest

EXAMPLE_ENV = {
    "SMTP_PASSWORD": "hunter2-smtp", "HARRIERS_NTFY_TOPIC": "harriers-x7k2",
    "SKIP_SLACK_TOKEN_A": "T1JJ3T3L2", "SKIP_SLACK_TOKEN_B": "A1BRTD4JD", "SKIP_SLACK_TOKEN_C": "TIiajkdnlazkcOXrIdevi7FQ",
}  # fmt: skip


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What examples/teams.toml's notification URLs need to load."""
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
