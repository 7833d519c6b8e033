"""Device simulators: athletes, scenarios from the seed's stories, faults, and an MQTT publisher.

>>> from datetime import date
>>> from simulators import generate, list_scenarios
>>> "jump_rope_spike" in list_scenarios()
True
>>> replay = generate("jump_rope_spike", start=date(2026, 3, 2), seed=1)
>>> first = next(iter(replay))
>>> first.topic, first.retain
('stridewatch/v1/club/rope-jumper/pod-1/status', True)

Publishing: ``publish(FaultPlan(duplicate=0.01).apply(replay), url="mqtt://localhost")``.
"""

from ingest.message import Message
from simulators.errors import PublishError, ScenarioError, SimulatorError
from simulators.faults import FaultPlan
from simulators.fleet import fleet
from simulators.messages import CORRUPTIONS, Replay, generate
from simulators.publisher import PublishReport, parse_speed, publish
from simulators.scenario import Scenario, list_scenarios, load_scenario, parse_scenario

__all__ = [
    "CORRUPTIONS",
    "FaultPlan",
    "Message",
    "PublishError",
    "PublishReport",
    "Replay",
    "Scenario",
    "ScenarioError",
    "SimulatorError",
    "fleet",
    "generate",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "parse_speed",
    "publish",
]
