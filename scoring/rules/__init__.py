"""The injury-risk rules, one module per rule (RULES.md), in evaluation order.

Later rules may read earlier ones' results (``Rule.reads``): no_warmup reads
return_from_break, hard_surface the load rules, overtraining acwr_spike and monotony.
"""

from scoring.rules._rule import AcuteLoadRule, Judgement, LoadRatioRule, Rule, SessionRule
from scoring.rules.acwr_spike import AcwrSpike
from scoring.rules.asymmetry import Asymmetry
from scoring.rules.descent_load import DescentLoad
from scoring.rules.fatigue import Fatigue
from scoring.rules.hard_surface import HardSurface
from scoring.rules.longest_session import LongestSession
from scoring.rules.monotony import Monotony
from scoring.rules.no_rest import NoRest
from scoring.rules.no_warmup import NoWarmup
from scoring.rules.overtraining import Overtraining
from scoring.rules.pain_acute import PainAcute
from scoring.rules.pain_persistent import PainPersistent
from scoring.rules.return_from_break import ReturnFromBreak
from scoring.rules.session_spike import SessionSpike
from scoring.rules.shoe_wear import ShoeWear
from scoring.rules.weekly_ramp import WeeklyRamp

__all__ = [
    "AcuteLoadRule",
    "AcwrSpike",
    "Asymmetry",
    "DescentLoad",
    "Fatigue",
    "HardSurface",
    "Judgement",
    "LoadRatioRule",
    "LongestSession",
    "Monotony",
    "NoRest",
    "NoWarmup",
    "Overtraining",
    "PainAcute",
    "PainPersistent",
    "ReturnFromBreak",
    "Rule",
    "SessionRule",
    "SessionSpike",
    "ShoeWear",
    "WeeklyRamp",
]
