"""The ``stridewatch`` command line: one entry point for every part of the system."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml

app = typer.Typer(
    name="stridewatch",
    help="Catch running and jumping injuries before they happen: ingest wearable streams over MQTT, "
    "score each athlete's injury risk, and alert coaches.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-v info, -vv debug).")
    ] = 0,
    log_json: Annotated[bool, typer.Option(help="Log one JSON object per line (for log collectors).")] = False,
) -> None:
    """Logs go to stderr, structured (key=value or JSON), warnings only unless -v."""
    from stridewatch.logs import configure

    configure(verbose=verbose, as_json=log_json)


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="Folder for one JSON Schema file per payload.")] = Path("schemas"),
    asyncapi: Annotated[
        Path | None, typer.Option(help="Also write the AsyncAPI 3.0 document here (e.g. docs/asyncapi.yaml).")
    ] = None,
) -> None:
    """Write the wire contract's JSON Schemas (and optionally its AsyncAPI document)."""
    from ingest.schema import asyncapi_document, json_schemas

    out.mkdir(parents=True, exist_ok=True)
    for name, doc in json_schemas().items():
        (out / f"{name}.schema.json").write_text(json.dumps(doc, indent=2) + "\n")
    typer.echo(f"wrote {len(json_schemas())} JSON Schemas to {out}/")
    if asyncapi:
        asyncapi.parent.mkdir(parents=True, exist_ok=True)
        asyncapi.write_text(yaml.safe_dump(asyncapi_document(), sort_keys=False, allow_unicode=True))
        typer.echo(f"wrote the AsyncAPI document to {asyncapi}")


MqttUrl = Annotated[
    str, typer.Option("--mqtt-url", envvar="STRIDEWATCH_MQTT_URL", help="mqtt://[user@]host[:port] or mqtts://...")
]
MetricsPort = Annotated[
    int | None,
    typer.Option(help="Serve Prometheus metrics on this port (/metrics).", envvar="STRIDEWATCH_METRICS_PORT"),
]
DbUrl = Annotated[
    str, typer.Option("--db", envvar="STRIDEWATCH_DB", help="sqlite:///path.db (default) or postgresql://user@host/db")
]


@app.command()
def ingest(
    mqtt_url: MqttUrl,
    db: DbUrl = "sqlite:///stridewatch.db",
    client_id: Annotated[
        str, typer.Option(help="Fixed MQTT client id of the persistent session.")
    ] = "stridewatch-ingest",
    share_group: Annotated[
        str | None, typer.Option(help="Join a v5 shared subscription ($share/GROUP/...) so replicas split the load.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Messages per transaction; also the v5 Receive Maximum.")] = 500,
    max_future_s: Annotated[float, typer.Option(help="Dead-letter event times further ahead of this clock.")] = 6
    * 3600,
    health_file: Annotated[Path | None, typer.Option(help="Write a JSON health record here every second.")] = None,
    feed: Annotated[
        bool,
        typer.Option(
            "--feed",
            help='Feed what is stored to `stridewatch score` workers (PostgreSQL; see "Scaling out" in the README).',
        ),
    ] = False,
    metrics_port: MetricsPort = None,
) -> None:
    """Consume device streams from MQTT, validate them, store each message exactly once."""

    def consumer() -> Any:
        from ingest.consumer import Consumer, ConsumerConfig

        config = ConsumerConfig(
            mqtt_url=mqtt_url,
            db_url=db,
            client_id=client_id,
            share_group=share_group,
            batch_size=batch_size,
            max_future_s=max_future_s,
            health_file=health_file,
            feed=feed,
        )
        return Consumer(config)

    _serve(consumer, metrics_port)


def _serve(make_service: Callable[[], Any], metrics_port: int | None) -> None:
    """Make and run a service until SIGTERM or Ctrl-C, then stop it (within 10 s, whatever it is
    doing) and exit 0; a second signal exits at once. Exit non-zero, loudly, if it cannot work."""
    import os
    import signal

    from ingest import metrics
    from stridewatch.services.pauses import fewer_pauses

    signalled: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        if signalled:
            os._exit(128 + signum)  # no clean-up: the broker keeps whatever was not acknowledged
        signalled.append(signum)
        raise KeyboardInterrupt  # wakes the main thread wherever it waits, even while still starting

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    if metrics_port is not None:
        metrics.serve(metrics_port)
    service = None
    try:
        service = make_service()
        fewer_pauses()
        service.start()
        service.wait()
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        typer.echo(f"stridewatch: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        if service is not None:
            service.stop()


@app.command()
def stats(db: DbUrl = "sqlite:///stridewatch.db", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What is stored, per team: messages, steps, sessions, wellness reports, dead letters."""
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from ingest.store import Store

    with Store(db) as store:
        store.migrate()
        rows = store.stats()
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    table = Table(title=f"stored in {db}")
    for column in (
        "team",
        "messages",
        "steps",
        "sessions",
        "wellness",
        "devices",
        "first event",
        "last event",
        "dead letters",
    ):
        table.add_column(
            column, justify="right" if column in ("messages", "steps", "sessions", "wellness", "devices") else "left"
        )
    for r in rows:
        dead = "\n".join(f"{n} {reason}" for reason, n in sorted(r.dead_letters.items(), key=lambda kv: -kv[1])) or "0"
        table.add_row(r.team, f"{r.messages:,}", f"{r.steps:,}", f"{r.sessions:,}", f"{r.wellness_reports:,}",
                      f"{r.devices:,}", _when(r.first_event_ts), _when(r.last_event_ts), dead)  # fmt: skip
    Console().print(table)


def _when(ts: int | None) -> str:
    from datetime import UTC, datetime

    return "-" if ts is None else datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


@app.command()
def simulate(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names (see --list) or scenario files.")
    ] = None,
    mqtt_url: MqttUrl = "mqtt://127.0.0.1:1883",
    speed: Annotated[
        str, typer.Option(help="max, realtime, or a factor of real time (60 = a minute a second).")
    ] = "max",
    start: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Day 0 of each scenario.")] = None,
    end: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day of each scenario (default: yesterday).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same messages.")] = 0,
    batch_steps: Annotated[
        int | None, typer.Option(help="Steps per message (default: about one second of steps, as pods send).")
    ] = None,
    imu: Annotated[
        bool, typer.Option("--imu", help="Foot and shin pods send raw acceleration (the imu stream), 1 s a message.")
    ] = False,
    fleet_size: Annotated[int, typer.Option("--fleet", help="Add a fleet of N athletes with a mix of profiles.")] = 0,
    teams: Annotated[int, typer.Option(help="Teams the fleet is dealt into.")] = 1,
    days: Annotated[int, typer.Option(help="Days of history for the fleet.")] = 56,
    duplicate: Annotated[float, typer.Option(help="Fault: share of messages sent twice.")] = 0.0,
    reorder: Annotated[int, typer.Option(help="Fault: shuffle within windows of N messages.")] = 0,
    corrupt: Annotated[float, typer.Option(help="Fault: share of messages corrupted (must be dead-lettered).")] = 0.0,
    drop_every: Annotated[int | None, typer.Option(help="Fault: drop the connection every N messages.")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the shipped scenarios and exit.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Replay simulated athletes over MQTT, in the contract's format, as their devices would."""
    from simulators import FaultPlan, fleet, generate, list_scenarios, load_scenario, publish

    if list_only:
        for name in list_scenarios():
            typer.echo(f"{name:18} {load_scenario(name).title}")
        return
    items: list[Any] = list(scenarios or [])
    if fleet_size:
        items.append(fleet(fleet_size, teams=teams, days=days, seed=seed))
    if not items:
        raise typer.BadParameter("name at least one scenario (see --list) or give --fleet N")
    replay = generate(
        *items,
        start=start.date() if start else None,
        end=end.date() if end else None,
        seed=seed,
        batch_steps=batch_steps,
        imu=imu,
    )
    if duplicate or reorder or corrupt:
        replay = FaultPlan(duplicate=duplicate, reorder=reorder, corrupt=corrupt).apply(replay, seed=seed)
    report = publish(replay, url=mqtt_url, speed=speed, drop_every=drop_every, progress=not quiet)
    streams = ", ".join(f"{n:,} {s}" for s, n in sorted(report.by_stream.items()))
    typer.echo(
        f"published {report.messages:,} messages ({streams}; {report.steps:,} steps) "
        f"in {report.duration_s:.1f} s to {mqtt_url}"
    )


@app.command("import")
def import_files(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Watch files (.fit, .tcx, .gpx), accelerometer recordings (.csv), team logs (PMSys .csv, Fitbit "
            "exercise.json, daily tables), or folders."
        ),
    ],
    team: Annotated[str, typer.Option(help="The athlete's team id.")],
    athlete: Annotated[
        str | None,
        typer.Option(
            help="The athlete's id: required for watch files and recordings; for a PMSys or Fitbit log, default its "
            "participant folder (p01). Team tables name their players."
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="The device id the sessions are stored under (default: watch-import; team logs: pmsys, fitbit, "
            "team-log)."
        ),
    ] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Fitbit logs: the time zone of their local start times, e.g. Europe/Oslo.")
    ] = "UTC",
    mqtt_url: Annotated[
        str | None, typer.Option("--mqtt-url", help="Publish at QoS 1 like a device, for a running ingest.")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Write straight to this store instead.")] = None,
    feed: Annotated[
        bool, typer.Option("--feed", help="With --db on a scaled-out deployment: feed it to the score workers.")
    ] = False,
    placement: Annotated[
        str | None,
        typer.Option(help="Recordings: where the sensor sat (foot, shin, sacrum, wrist, hand, pocket, ...)."),
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%dT%H:%M:%S"], help="Recordings timed from their start: when that was, UTC."),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Recordings: g or m/s2 (default: told by gravity).")] = None,
    activity: Annotated[str | None, typer.Option(help="Recordings: run, walk or other (default: other).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The per-file report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Import Garmin FIT, TCX and GPX files as sessions and steps, raw accelerometer recordings (t,x,y,z CSV,
    the Oxford step-counter layouts) for the server to detect their steps, and team logs (PMSys session RPE,
    wellness and injuries, Fitbit exercise logs, daily load and soreness tables) as sessions with their RPE and
    pain reports; implausible data is flagged and left out."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from ingest.topics import TopicError
    from stridewatch.tools.import_files import run
    from stridewatch.tools.importing import RecordingOptions, check_ids

    if (mqtt_url is None) == (db is None):
        raise typer.BadParameter("give either --mqtt-url (publish like a device) or --db (write to the store)")
    try:
        check_ids(team, athlete, device)
        recording = RecordingOptions.parse(placement=placement, start=start, unit=unit, activity=activity)
        zone = ZoneInfo(tz)
    except ZoneInfoNotFoundError:
        raise typer.BadParameter(f"--tz {tz!r}: not a time zone (use a name such as Europe/Oslo, or UTC)") from None
    except (TopicError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None
    code = run(files, team=team, athlete=athlete, device=device, tz=zone, mqtt_url=mqtt_url, db_url=db, feed=feed,
               recording=recording, as_json=as_json, progress=not quiet)  # fmt: skip
    raise typer.Exit(code)


TeamsFile = Annotated[
    Path | None, typer.Option("--teams", help="teams.toml: team ids, time zones, coaches to notify, thresholds.")
]


def _teams(path: Path | None) -> Any:
    from stridewatch.teams import TeamsConfig

    return TeamsConfig.load(path) if path else TeamsConfig.default()


@app.command()
def assess(
    db: DbUrl = "sqlite:///stridewatch.db",
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
    at: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], help="Event time, UTC (default: now)."
        ),
    ] = None,
    teams: TeamsFile = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The contract's alert shape, one object per athlete.")
    ] = False,
) -> None:
    """Each athlete's injury risk as of an event time: a what-if on the service's own code path."""
    from datetime import UTC

    from ingest.store import Store
    from stridewatch.risk.engine import RiskEngine
    from stridewatch.tools.alert_view import assessments_table

    when = int((at.replace(tzinfo=UTC) if at else datetime.now(UTC)).timestamp() * 1000)
    with Store(db) as store:
        store.migrate()
        engine = RiskEngine(store, _teams(teams))
        engine.refresh_features(team=team, athlete=athlete)
        results = engine.assess_all(at=when, team=team, athlete=athlete)
    if as_json:
        typer.echo(json.dumps([a.to_alert_dict() for a in results], indent=2))
        return
    from rich.console import Console

    Console().print(assessments_table(results, title=f"injury risk as of {_when(when)} UTC"))


@app.command()
def validate(
    db: DbUrl = "sqlite:///stridewatch.db",
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    teams: TeamsFile = None,
    horizon_days: Annotated[int, typer.Option(min=1, help="An outcome within this many days of a raise counts.")] = 14,
    outcome: Annotated[
        Literal["any", "injury", "soreness"],
        typer.Option(
            help="What a warning should come before: any pain report of 4+ or sharp, an injury (ache or sharp, "
            "5+: imported injuries), or soreness of 4+ (imported soreness)."
        ),
    ] = "any",
    as_json: Annotated[bool, typer.Option("--json", help="Every figure per team and rule, as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Draw the results to this PNG file.")] = None,
    suggest: Annotated[
        Path | None,
        typer.Option(
            help="Write per-team thresholds that cut raises without missing pain episodes (TOML), for the "
            "rules the data can judge (enough outcome episodes)."
        ),
    ] = None,
    draws: Annotated[int, typer.Option(min=20, help="Random rearrangements for the chance baseline.")] = 500,
    seed: Annotated[
        int, typer.Option(help="Seed of the chance baseline and the resampled athletes: same seed, same figures.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Does each rule warn before pain? Every rule's raises measured against the team's own pain reports
    (or injuries, or soreness), against the days it did not warn, and against raises on random days."""
    from scoring.validation import OUTCOMES
    from stridewatch.tools.validate import run as run_validation

    if plot is not None and plot.suffix.lower() != ".png":
        raise typer.BadParameter("the plot is a PNG: give a .png path", param_hint="--plot")
    results = run_validation(db, _teams(teams), team=team, horizon_days=horizon_days, outcome=OUTCOMES[outcome],
                             draws=draws, seed=seed, json_out=as_json, suggest_to=suggest, progress=not quiet)  # fmt: skip
    if results and plot is not None:
        from stridewatch.tools.validate_plot import write_plot

        write_plot(results, plot)
    if not results:
        typer.echo(
            "stridewatch validate: no session features or pain reports stored" + (f" for {team}" if team else ""),
            err=True,
        )
        raise typer.Exit(1)
    for path, what in ((plot, "plot"), (suggest, "suggested thresholds")):
        if path is not None:
            typer.echo(f"wrote the {what} to {path}", err=True)


@app.command()
def cohort(
    db: DbUrl = "sqlite:///stridewatch.db",
    athletes: Annotated[int, typer.Option(min=1, help="Runners in the cohort.")] = 200,
    days: Annotated[int, typer.Option(min=28, help="Days of history, ending on --end.")] = 182,
    end: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="The last day of the history. [default: yesterday]")
    ] = None,
    team_count: Annotated[int, typer.Option("--team-count", min=1, help="Teams the runners are dealt into.")] = 1,
    seed: Annotated[int, typer.Option(help="Same seed, same cohort.")] = 0,
    without_outcomes: Annotated[
        bool, typer.Option("--without-outcomes", help="Pain at the base rate whatever the runs (no known truth).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Store a simulated cohort of runners whose pain follows the published hazard ratios of long runs
    (Frandsen 2025), so `stridewatch validate` can be tried with a known truth."""
    from datetime import UTC, timedelta

    from simulators.cohort import cohort as make_cohort
    from simulators.outcomes import OutcomeModel
    from stridewatch.tools.cohort import write_cohort

    model = OutcomeModel().without_effect() if without_outcomes else OutcomeModel()
    last = end.date() if end else datetime.now(UTC).date() - timedelta(days=1)
    made = make_cohort(athletes, days=days, end=last, seed=seed, teams=team_count, outcomes=model)
    dead = write_cohort(made, db, progress=not quiet)
    typer.echo(f"stored {made.features.height:,} runs and {len(made.reports):,} wellness reports of {athletes} "
               f"runners over {days} days to {last} in {db}" + (f" ({dead} rejected)" if dead else ""))  # fmt: skip
    if dead:
        raise typer.Exit(1)


@app.command()
def run(
    mqtt_url: MqttUrl,
    db: DbUrl = "sqlite:///stridewatch.db",
    teams: TeamsFile = None,
    client_id: Annotated[str, typer.Option(help="Fixed MQTT client id of the persistent session.")] = "stridewatch-run",
    batch_size: Annotated[int, typer.Option(help="Messages per transaction; also the v5 Receive Maximum.")] = 500,
    health_file: Annotated[Path | None, typer.Option(help="Write a JSON health record here every second.")] = None,
    metrics_port: MetricsPort = None,
    reevaluate_every: Annotated[
        float,
        typer.Option(
            min=1.0,
            help="Seconds between re-scorings of open alerts on the wall clock: reasons that hold for days "
            "expire even when no data comes.",
        ),
    ] = 900.0,
) -> None:
    """The single-machine service: ingest, score live and after each session, publish alerts, notify coaches."""

    def service() -> Any:
        from ingest.consumer import ConsumerConfig
        from stridewatch.services.run import RunService

        config = ConsumerConfig(
            mqtt_url=mqtt_url, db_url=db, client_id=client_id, batch_size=batch_size, health_file=health_file
        )
        return RunService(config, _teams(teams), reevaluate_s=reevaluate_every)

    _serve(service, metrics_port)


@app.command()
def score(
    db: DbUrl = "postgresql://127.0.0.1/stridewatch",
    mqtt_url: Annotated[
        str | None,
        typer.Option("--mqtt-url", envvar="STRIDEWATCH_MQTT_URL", help="Publish alerts here (retained risk topics)."),
    ] = None,
    teams: TeamsFile = None,
    partitions: Annotated[int, typer.Option(min=1, max=4096, help="Partitions the athletes fall into.")] = 64,
    worker: Annotated[
        str | None, typer.Option(help="This worker's stable id (default: host name and process id).")
    ] = None,
    reorder_window: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="The longest a record waits for one before it still on its way (another "
            "replica's commit, a batch its device has not sent yet).",
        ),
    ] = 5.0,
    takeover_after: Annotated[
        float, typer.Option(min=2.0, help="Seconds of silence after which a worker's partitions are taken over.")
    ] = 5.0,
    health_file: Annotated[Path | None, typer.Option(help="Write a JSON health record here every second.")] = None,
    metrics_port: MetricsPort = None,
    reevaluate_every: Annotated[
        float, typer.Option(min=1.0, help="Seconds between re-scorings of open alerts on the wall clock.")
    ] = 900.0,
) -> None:
    """A scoring worker of a scaled-out deployment (PostgreSQL): folds what the ingest replicas stored,
    for its fair share of the athletes; more workers, more capacity (README "Scaling out")."""

    def service() -> Any:
        from stridewatch.services.score_worker import ScoreConfig, ScoreWorker

        config = ScoreConfig(db_url=db, mqtt_url=mqtt_url, worker=worker or "", partitions=partitions,
                             window_ms=int(reorder_window * 1000), stale_s=takeover_after,
                             reevaluate_s=reevaluate_every, health_file=health_file)  # fmt: skip
        return ScoreWorker(config, _teams(teams))

    _serve(service, metrics_port)


@app.command()
def alerts(
    mqtt_url: MqttUrl = "mqtt://127.0.0.1:1883",
    team: Annotated[str, typer.Option(help="The team whose risk topic to tail ('+' for all).")] = "+",
    count: Annotated[int | None, typer.Option(help="Stop after this many alerts.")] = None,
) -> None:
    """Tail the retained risk topic: each athlete's current state, then every change."""
    from stridewatch.tools.alert_view import tail_alerts

    tail_alerts(mqtt_url, team=team, count=count)


@app.command()
def demo(
    fleet_size: Annotated[int, typer.Option("--fleet", help="Extra simulated athletes besides the seed's.")] = 6,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the broker and database here (default: a temp dir).")
    ] = None,
) -> None:
    """Watch stridewatch work: broker, simulated athletes, ingest, scoring and the coach's live board."""
    from stridewatch.tools.demo import run_demo

    run_demo(fleet_size=fleet_size, workdir=workdir)


@app.command()
def dashboard(
    db: DbUrl = "sqlite:///stridewatch.db",
    mqtt_url: Annotated[
        str | None,
        typer.Option(
            "--mqtt-url",
            envvar="STRIDEWATCH_MQTT_URL",
            help="Live alerts from this broker, and acknowledgements published to it (without it: the database "
            "is polled).",
        ),
    ] = None,
    teams: TeamsFile = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8050,
    secrets_dir: Annotated[
        Path | None, typer.Option(help="Coaches' passwords as files named by login (as `stridewatch provision`).")
    ] = Path("deploy/secrets"),
    session_hours: Annotated[float, typer.Option(min=0.1, help="A coach's sign-in lasts this long.")] = 12.0,
    insecure_no_auth: Annotated[
        bool, typer.Option("--insecure-no-auth", help="No sign-in: anyone who reaches it sees every team.")
    ] = False,
) -> None:
    """The coach's web dashboard: the team board by risk, athlete charts, alert history and acknowledgements.
    Coaches of --teams with an mqtt_login sign in with their broker password; each sees only their team."""
    import logging

    from stridewatch.dashboard.app import DashboardConfig, serve
    from stridewatch.dashboard.auth import SignInSetupError, gate_for
    from stridewatch.teams import TeamsConfigError

    try:
        teams_config = _teams(teams)
        gate, warnings = gate_for(teams_config, secrets_dir=secrets_dir, host=host, insecure_no_auth=insecure_no_auth,
                                  lifetime_s=session_hours * 3600)  # fmt: skip
    except (SignInSetupError, TeamsConfigError) as exc:
        typer.echo(f"stridewatch dashboard: {exc}", err=True)
        raise typer.Exit(2) from None
    for warning in warnings:
        logging.getLogger("stridewatch.dashboard").warning(warning)
    who = f"{len(gate.accounts)} coaches sign in" if gate.required else "no sign-in: every team shown"
    typer.echo(f"stridewatch dashboard on http://{host}:{port}/ ({who}; Ctrl-C to stop)")
    serve(DashboardConfig(db_url=db, teams=teams_config, mqtt_url=mqtt_url, gate=gate), host=host, port=port)


@app.command()
def report(
    team: Annotated[str, typer.Option(help="The team.")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")],
    db: DbUrl = "sqlite:///stridewatch.db",
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: last week).")] = None,
    teams: TeamsFile = None,
) -> None:
    """A week of a team or an athlete as one self-contained HTML file: board, charts, alerts."""
    import time
    from datetime import UTC

    from ingest.store import Store
    from stridewatch.dashboard.athlete_cache import AthleteCache
    from stridewatch.dashboard.report import ReportError, last_full_week, parse_week, weekly_report

    if out.suffix.lower() not in (".html", ".htm"):
        raise typer.BadParameter("the report is HTML: give --out a .html path", param_hint="--out")
    try:
        monday = parse_week(week) if week else last_full_week(datetime.now(UTC).date())
        with Store(db) as store:
            store.migrate()
            html = weekly_report(store, AthleteCache(_teams(teams)), team=team, athlete=athlete, week=monday,
                                 made_ms=int(time.time() * 1000))  # fmt: skip
    except ReportError as exc:
        typer.echo(f"stridewatch report: {exc}", err=True)
        raise typer.Exit(1) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    typer.echo(f"wrote the {monday:%G-W%V} report to {out}")


@app.command()
def provision(
    teams: Annotated[Path, typer.Option("--teams", help="teams.toml with each team's devices and coaches' logins.")],
    out: Annotated[Path, typer.Option(help="Folder for the broker's `passwords` and `acl` files.")] = Path(
        "deploy/mosquitto/generated"
    ),
    passwords: Annotated[Path | None, typer.Option(help="The password file (default: OUT/passwords).")] = None,
    acl: Annotated[Path | None, typer.Option(help="The ACL file (default: OUT/acl).")] = None,
    secrets_dir: Annotated[
        Path | None,
        typer.Option(help="Passwords as files named by login; new accounts get generated ones here (0600)."),
    ] = Path("deploy/secrets"),
    rotate: Annotated[
        list[str] | None, typer.Option(help="Give this login a new generated password (repeatable).")
    ] = None,
    simulator: Annotated[
        list[str] | None,
        typer.Option(help="Add the `simulator` login, allowed to publish as any device of this team (demos)."),
    ] = None,
) -> None:
    """Create or update the broker's password and ACL files from teams.toml: each device may publish
    only to its own topics, each coach read only their team's alerts. Passwords come from
    STRIDEWATCH_SECRET_<LOGIN> or --secrets-dir and are never printed."""
    from stridewatch.broker.provision import ProvisionError
    from stridewatch.broker.provision import provision as provision_accounts
    from stridewatch.teams import TeamsConfigError

    passwords = passwords or out / "passwords"
    acl = acl or out / "acl"
    try:
        report = provision_accounts(
            _teams(teams),
            passwords=passwords,
            acl=acl,
            secrets_dir=secrets_dir,
            rotate=rotate or (),
            simulator_teams=simulator or (),
        )
    except (ProvisionError, TeamsConfigError) as exc:
        typer.echo(f"stridewatch: {exc}", err=True)
        raise typer.Exit(1) from None
    for verb in ("created", "updated", "removed"):
        for login in getattr(report, verb):
            typer.echo(f"{verb} {login}")
    typer.echo(
        f"wrote {passwords} and {acl}: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged; "
        "send the broker SIGHUP to load them (docker compose kill -s HUP mosquitto)"
    )


@app.command("dev-certs")
def dev_certs(
    out: Annotated[Path, typer.Option(help="Folder for ca.crt, server.crt and server.key.")] = Path(
        "deploy/mosquitto/certs"
    ),
    host: Annotated[
        list[str] | None, typer.Option(help="A name or IP clients reach the broker by (repeatable).")
    ] = None,
    days: Annotated[int, typer.Option(help="How long the certificates are valid.")] = 825,
) -> None:
    """Make a private CA and a broker certificate for TLS in development (clients trust OUT/ca.crt)."""
    from stridewatch.broker.certs import make_dev_certs

    for path in make_dev_certs(out, host or ["localhost", "mosquitto", "127.0.0.1"], days=days):
        typer.echo(f"wrote {path}")
