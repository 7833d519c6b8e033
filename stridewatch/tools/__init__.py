"""What people run besides the services: ``importing`` (watch files in), ``cohort`` and ``stories``
(simulated squads and the seed's stories), ``validate`` and ``validate_plot`` (does a rule work for a
team), ``demo``, and ``alert_view`` (the coach's live board in a terminal)."""
