import simulators


def test_the_public_surface_is_pinned() -> None:
    assert sorted(simulators.__all__) == [
        "CORRUPTIONS", "FaultPlan", "Message", "PublishError", "PublishReport", "Replay", "Scenario",
        "ScenarioError", "SimulatorError", "fleet", "generate", "list_scenarios", "load_scenario",
        "parse_scenario", "parse_speed", "publish",
    ]  # fmt: skip
    assert all(hasattr(simulators, name) for name in simulators.__all__)
