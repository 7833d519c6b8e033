"""Everything stridewatch's own modules raise has one root, `StridewatchError` (each also the built-in
kind it always was)::

    StridewatchError
    ├── TeamsConfigError      teams.toml is wrong, and where (`stridewatch.teams`)
    ├── ProvisionError        the broker's accounts cannot be written (`stridewatch.broker.provision`)
    ├── AckError              an acknowledgement cannot be taken (`stridewatch.dashboard.acks`)
    │   └── NoSuchAlert
    ├── ReportError           no weekly report for what was asked (`stridewatch.dashboard.report`)
    ├── MissingPasswords      coaches without a password hash (`stridewatch.dashboard.auth`)
    └── SignInSetupError      the dashboard's sign-in cannot be set up (`stridewatch.dashboard.auth`)

What ingest, scoring and the simulators raise has their own roots (`ingest.errors`,
`scoring.errors`, `simulators.errors`).
"""


class StridewatchError(Exception):
    """Anything stridewatch's own modules raise."""
