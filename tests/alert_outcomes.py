"""What a coach was told of each athlete, for comparing two runs of the service over the same traffic."""

from __future__ import annotations

import json

from ingest.store import Store

RANK = {"low": 0, "moderate": 1, "high": 2, "critical": 3}


def alert_outcome(db_url: str) -> dict[str, tuple[str, str, frozenset[str]]]:
    """Per athlete: the final alert state, the worst level, the rules that reached high or worse."""
    with Store(db_url) as store:
        finals = store.query("SELECT team, athlete, state, level FROM alerts ORDER BY raised_ts")
        events = store.query("SELECT level, payload FROM alert_events")
    final = {f"{team}/{athlete}": f"{state} {level}" for team, athlete, state, level in finals}
    worst: dict[str, str] = {}
    serious: dict[str, set[str]] = {}
    for level, payload in events:
        alert = json.loads(payload)
        who = f"{alert['team']}/{alert['athlete']}"
        worst[who] = max(worst.get(who, "low"), level, key=RANK.__getitem__)
        rules = {r["rule"] for r in alert["reasons"] if RANK[r["severity"]] >= RANK["high"]}
        serious.setdefault(who, set()).update(rules)
    return {who: (final[who], worst[who], frozenset(serious[who])) for who in final}
