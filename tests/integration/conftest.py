from __future__ import annotations

import datetime as dt

import pytest

from simulators import list_scenarios
from tests.scenario_expectations import SCENARIO_END
from tests.scored_db import build_scored_db


@pytest.fixture(scope="session")
def seed_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dt.date]:
    """Every seed scenario, ending on the fixed scenario day, stored and scored as `stridewatch run` leaves it
    (SQLite; built once for the dashboard and report tests): the URL and the last day."""
    end = SCENARIO_END
    url = f"sqlite:///{tmp_path_factory.mktemp('seed-db')}/seed.db"
    assert build_scored_db(url, list_scenarios(), end=end), "the seed scenarios raised no alert"
    return url, end
