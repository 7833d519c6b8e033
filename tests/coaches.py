"""Two teams' coaches and an admin for the dashboard's sign-in tests: the teams file, and their
passwords in the variables `stridewatch provision` reads (random for each run)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from stridewatch.broker.provision import secret_variable

TEAMS = ("club", "poltava")  # the teams of the seed scenarios (`tests.scored_db.TWO_TEAMS` is one of each)


@dataclass(frozen=True)
class Coach:
    login: str
    name: str
    team: str | None  # None: admin, every team
    password: str


def coaches() -> dict[str, Coach]:
    """By team id, plus ``admin``."""
    return {
        "club": Coach("coach-club", "Ana Club", "club", secrets.token_urlsafe(16)),
        "poltava": Coach("coach-poltava", "Bo Poltava", "poltava", secrets.token_urlsafe(16)),
        "admin": Coach("head-coach", "Head Coach", None, secrets.token_urlsafe(16)),
    }


def write_teams(path: Path, people: dict[str, Coach]) -> dict[str, str]:
    """``teams.toml`` for ``people`` at ``path``; returns the environment holding their passwords."""
    lines = []
    for team in TEAMS:
        lines.append(f"[teams.{team}]")
        for coach in people.values():
            if coach.team == team or (coach.team is None and team == TEAMS[-1]):
                lines += [f"[[teams.{team}.coaches]]", f'name = "{coach.name}"', f'mqtt_login = "{coach.login}"',
                          'notify = ["json://localhost/stridewatch"]']  # fmt: skip
                if coach.team is None:
                    lines.append("admin = true")
    path.write_text("\n".join(lines) + "\n")
    return {secret_variable(c.login): c.password for c in people.values()}
