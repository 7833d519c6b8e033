"""A real recreational runner's year (68 runs, 1.3 a week, no pain) through the service's
scoring raises few alerts, and every high one stands on evidence (issue: alerts a coach can trust)."""

from __future__ import annotations

import pytest

from bench.real_year import EVIDENCED, YEAR, replay
from stridewatch.tools.importing import expand

pytestmark = pytest.mark.integration


def test_a_healthy_runners_year_raises_few_alerts_and_no_unfounded_high() -> None:
    files = expand([YEAR])
    assert len(files) == 68, f"the real year's 68 runs are not all in {YEAR}"
    alerts = replay(files)
    assert alerts.runs >= 60  # the year's runs, less the duplicates and implausible ones the import keeps out
    assert alerts.high_raises <= 3, alerts.highs
    assert alerts.moderate_raises <= 15, alerts.by_rule
    assert all(EVIDENCED & set(rules) for rules in alerts.highs), alerts.highs
    # The estimated (GPS) cadence of these runs never reads as form: no warm-up or form-breakdown reason.
    assert not {key for key in alerts.by_rule if key.startswith("no_warmup")}, alerts.by_rule
