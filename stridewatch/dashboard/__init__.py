"""The coach's web dashboard and weekly report: the same data, the same charts, two outputs.

``athlete_data`` prepares what the charts show (pure polars over the stored session
features), ``charts`` draws it as inline SVG, ``board`` and ``history`` read the team
board and the alert history, ``acks`` stores and publishes acknowledgements, ``rendering``
holds the templates both outputs share, ``app`` serves it all (``live`` pushes alerts to
the browser) and ``report`` writes the weekly HTML file.
"""
