"""The long-running services: ``run`` (one process: ingest and the risk pipeline together) and, scaled
out on PostgreSQL, ``score_worker`` (the pipeline fed by the replicas' feed), whose athletes are split
between workers by ``partitions`` and put back in order by ``reorder``. `stridewatch ingest` is
`ingest.consumer` alone. Each long-running command tunes the garbage collector with ``pauses``."""
