"""`python -m bench.real_teams`, the command behind the README's "How the rules fare on real teams":
both real sets import without a failed file or a dead letter, and every rule is judged on them."""

from __future__ import annotations

import pytest

from bench.real_teams import judged, markdown
from scoring.validation import INJURY

pytestmark = pytest.mark.integration


def test_both_real_teams_are_judged_on_their_injuries() -> None:
    results = judged(INJURY, draws=20)
    assert [r.team for r in results] == ["pmdata", "soccermon"]
    by_team = {r.team: r for r in results}
    assert by_team["soccermon"].athletes == 50 and by_team["pmdata"].athletes == 16
    for result in results:
        assert result.unjudged() is None, result.unjudged()  # 10+ injury episodes in each
        warned = set(result.table.filter(result.table["severity"].is_not_null())["rule"])
        assert {"acwr_spike", "weekly_ramp", "no_rest"} <= warned  # the load rules judge sRPE load
    table = markdown(results)
    assert table.count("\n| **") == 2 and "| soccermon | weekly_ramp | moderate |" in table
