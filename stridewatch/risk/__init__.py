"""The risk pipeline, shared by `stridewatch run` and the score workers: stored records in, alerts out.

``pipeline`` (`RiskPipeline`) folds what the store took into each athlete's state
(``athletes``), judges the session in progress live, and hands changes of each athlete's
risk to the ``alerts`` book, which stores them and publishes them through the ``relay``;
``engine`` (`RiskEngine`) reads the store and scores with the pure core (`scoring`), for the
pipeline and for the what-if command, the dashboard and the tools.
"""
