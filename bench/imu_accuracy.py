"""Step detection against the truth: real phone recordings and the simulators' pods.

Real: the Oxford step-counter recordings (walking; 6 phone placements), the 13 of the
shared set when it is at hand (``STRIDEWATCH_IMU_SET`` or ``../shared/data/imu``), else the
3 copied into ``tests/data/imu``; each through the importer's reader and the server's
detector, scored against the truth device's steps (`tests.unit.imu.truth`): the count's
error, and the F1 of step times matched within 0.15 s, as recorded and with the
recording's constant clock lag removed (the phone's sensor clock is not the truth
device's). Simulated: a run and rope sessions of the seed scenarios as raw pod signals,
against the model's own steps and peaks. Every figure comes from the same code the tests
hold to the targets; here they are printed, per recording, to follow them over time.
"""

from __future__ import annotations

import numpy as np

from bench.core import Benchmark, Context, Metric, Target


def run(ctx: Context) -> list[Metric]:
    from tests.unit.imu.recordings import detect, pod_session
    from tests.unit.imu.test_pod_model import matched
    from tests.unit.imu.test_real_recordings import scores
    from tests.unit.imu.truth import COPIED, SHARED, shared_recordings, true_steps_ms

    paths = shared_recordings() if SHARED else list(COPIED)
    ctx.log(f"{'recording':42s} {'true':>5s} {'found':>5s} {'error':>7s} {'F1':>6s} {'F1 aligned':>10s}")
    errors, f1s, aligned = [], [], []
    for path in paths:
        error, raw_f1, aligned_f1 = scores(path)
        true = len(true_steps_ms(path))
        name = path.parent.name if path.name == "accelerometer.csv" else path.stem
        ctx.log(
            f"{name:42s} {true:5d} {round(true * (1 + error / 100)):5d} {error:+6.2f}% {raw_f1:6.3f} {aligned_f1:10.3f}"
        )
        errors.append(abs(error))
        f1s.append(raw_f1)
        aligned.append(aligned_f1)
    simulated: dict[str, list[float]] = {"run": [], "jump_rope": []}
    impact: list[float] = []
    for scenario, index in ctx.sizes(full=(("steady_runner", 0), ("steady_runner", 1), ("jump_rope_spike", 4),
                                           ("jump_rope_spike", 6)),
                                     quick=(("steady_runner", 0), ("jump_rope_spike", 4)),
                                     smoke=(("jump_rope_spike", 0),)):  # fmt: skip
        signal, model, session, _ = pod_session(scenario, index)
        found = detect(signal)
        nearest, close = matched(found, model)
        simulated[session.activity].append(100 * abs(len(found) - len(model)) / len(model))
        worst = float(np.max(np.abs(found.impact_g[nearest[close]] / model.impact_g[close] - 1)))  # type: ignore[index]
        impact.append(100 * worst)
        ctx.log(f"{scenario} session {index} ({session.activity}): {len(found)} of {len(model)} steps, impact within "
                f"{100 * worst:.1f}%")  # fmt: skip
    where = f"{len(paths)} Oxford recordings"
    metrics = [
        Metric("imu_real_max_error_pct", f"step count error, worst of {where}", "%", [max(errors)],
               target=Target(3.0, "below")),
        Metric("imu_real_median_error_pct", "step count error, median", "%", [float(np.median(errors))],
               target=Target(1.5, "below")),
        Metric("imu_real_min_f1", "F1 of step times within 0.15 s, worst recording", "", [min(f1s)],
               target=Target(0.95, "above")),
        Metric("imu_real_min_f1_aligned", "the same with each recording's clock lag removed", "", [min(aligned)],
               target=Target(0.95, "above")),
        Metric("imu_sim_impact_max_error_pct", "simulated pods: worst impact_g against the model's peak", "%",
               [max(impact)], target=Target(10.0, "below")),
    ]  # fmt: skip
    for activity, found_errors in simulated.items():
        if found_errors:
            metrics.append(Metric(f"imu_sim_{activity}_error_pct", f"simulated {activity}: worst step count error",
                                  "%", [max(found_errors)], target=Target(1.0, "below")))  # fmt: skip
    return metrics


BENCHMARK = Benchmark("imu_accuracy", "step detection against the truth: real phone recordings, simulated pods", run)
