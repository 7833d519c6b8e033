"""Everything ingest raises has one root, `IngestError` (each also the built-in kind it always was)::

IngestError
├── TopicError            a topic outside the contract (`ingest.topics`)
├── PayloadError          a payload that breaks the contract: its reason is the dead letter's (`ingest.payloads`)
├── SamplesError          raw accelerometer samples that cannot be read (`ingest.imu.samples`)
├── FileError             a watch file, recording or team log that cannot be read (`ingest.files`)
│   └── NotARecording     not an accelerometer recording at all (`ingest.files.accel`)
├── ConfigError           a consumer configuration that would lose messages (`ingest.consumer`)
├── BrokerError           the broker cannot be reached, or refuses (`ingest.mqtt`)
├── CursorMoved           a feed partition's cursor moved under a worker (`ingest.feed`)
└── StoreError            anything the store raises (`ingest.store`)
    ├── StoreUnavailable  transient: nothing was written, retry later
    └── StoreRefused      the data: the database refuses what a record holds
"""


class IngestError(Exception):
    """Anything ingest raises."""
