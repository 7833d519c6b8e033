"""``stridewatch cohort``: a simulated runner cohort with a known injury truth, stored for ``stridewatch validate``.

The runs go in as session start and end messages through the consumer's record path, their
features (``simulators.summary``, no steps) straight after; the pain reports as wellness
messages. So a coach can try ``validate`` without data of their own.
"""

from __future__ import annotations

from ingest.store import Store
from simulators.cohort import Cohort
from stridewatch.tools.sending import store


def write_cohort(cohort: Cohort, db_url: str, *, progress: bool = False) -> int:
    """Store the cohort's sessions, features and reports; returns how many messages were rejected (a bug if any)."""
    dead = store(list(cohort.messages()), db_url, progress=progress)
    with Store(db_url) as db:
        db.save_features(cohort.features)
    return dead
