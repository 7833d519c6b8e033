"""The registry of rule thresholds, and building it from a team's plain config mapping.

Examples
--------
>>> t = thresholds_from_mapping({"session_spike": {"high": 2.5}, "load": {"baseline_days": 21}})
>>> t.session_spike.high, t.session_spike.moderate, t.load.baseline_days
(2.5, 1.5, 21)
>>> thresholds_from_mapping({"session_spike": {"hihg": 2.5}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
scoring.errors.ConfigError: session_spike: unknown field 'hihg' (known: clear_below, ...)
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.errors import ConfigError
from scoring.load import LoadSettings
from scoring.rules import (
    AcwrSpike,
    Asymmetry,
    DescentLoad,
    Fatigue,
    HardSurface,
    LongestSession,
    Monotony,
    NoRest,
    NoWarmup,
    Overtraining,
    PainAcute,
    PainPersistent,
    ReturnFromBreak,
    Rule,
    SessionSpike,
    ShoeWear,
    WeeklyRamp,
)


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Every rule's thresholds plus the load settings; field order is evaluation order."""

    load: LoadSettings = field(default_factory=LoadSettings)
    longest_session: LongestSession = field(default_factory=LongestSession)
    session_spike: SessionSpike = field(default_factory=SessionSpike)
    acwr_spike: AcwrSpike = field(default_factory=AcwrSpike)
    weekly_ramp: WeeklyRamp = field(default_factory=WeeklyRamp)
    no_rest: NoRest = field(default_factory=NoRest)
    return_from_break: ReturnFromBreak = field(default_factory=ReturnFromBreak)
    monotony: Monotony = field(default_factory=Monotony)
    hard_surface: HardSurface = field(default_factory=HardSurface)
    descent_load: DescentLoad = field(default_factory=DescentLoad)
    no_warmup: NoWarmup = field(default_factory=NoWarmup)
    fatigue: Fatigue = field(default_factory=Fatigue)
    asymmetry: Asymmetry = field(default_factory=Asymmetry)
    shoe_wear: ShoeWear = field(default_factory=ShoeWear)
    pain_acute: PainAcute = field(default_factory=PainAcute)
    pain_persistent: PainPersistent = field(default_factory=PainPersistent)
    overtraining: Overtraining = field(default_factory=Overtraining)

    def __post_init__(self) -> None:
        # A rule reads the verdicts of rules evaluated before it: they must be there.
        earlier: list[str] = []
        for rule in self.rules():
            missing = [r for r in rule.reads() if r not in earlier]
            if missing:
                raise ConfigError(
                    f"{rule.rule_id} reads {missing}, which must be enabled rules evaluated before it "
                    f"({', '.join(earlier) or 'none'})",
                    rule=rule.rule_id,
                )
            earlier.append(rule.rule_id)

    def rules(self) -> tuple[Rule, ...]:
        """The enabled rules in evaluation order."""
        every = (getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "load")
        return tuple(rule for rule in every if rule.enabled)

    def rule(self, rule_id: str) -> Rule:
        """The rule with id ``rule_id``."""
        found: Rule = getattr(self, rule_id)
        return found


DEFAULT_THRESHOLDS = Thresholds()
# Every rule, enabled by default or not, in evaluation order.
RULE_IDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Thresholds) if f.name != "load")


def _coerce(section: str, name: str, hint: Any, value: Any) -> Any:
    """A config value checked against the field's type (JSON/YAML gives lists and ints)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if hint is float and number:
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint == float | None and (value is None or number):
        return None if value is None else float(value)
    if typing.get_origin(hint) is typing.Literal and value in typing.get_args(hint):
        return value
    if typing.get_origin(hint) is tuple and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{section}.{name}: expected {hint}, got {value!r}", rule=section, field=name)


def thresholds_from_mapping(config: Mapping[str, Mapping[str, Any]]) -> Thresholds:
    """Thresholds with a team's overrides, e.g. ``{"session_spike": {"high": 2.5}}``.

    Keys are rule ids (or "load"); each value maps field names to new values. Unknown rules
    or fields, wrong types and inconsistent thresholds raise ``ConfigError``.
    """
    sections = {f.name for f in dataclasses.fields(Thresholds)}
    changes: dict[str, Any] = {}
    for section, overrides in config.items():
        if section not in sections:
            raise ConfigError(f"unknown rule {section!r} (known: {', '.join(sorted(sections))})", rule=section)
        current = getattr(DEFAULT_THRESHOLDS, section)
        hints = typing.get_type_hints(type(current))
        known = sorted(f.name for f in dataclasses.fields(current))
        for name in overrides:
            if name not in known:
                raise ConfigError(
                    f"{section}: unknown field {name!r} (known: {', '.join(known)})", rule=section, field=name
                )
        values = {name: _coerce(section, name, hints[name], value) for name, value in overrides.items()}
        changes[section] = dataclasses.replace(current, **values)
    return Thresholds(**changes)
