"""Broker tooling: ``local`` (a Mosquitto process of our own, for the demo and the tests), ``config``
(the production broker's configuration), ``passwords`` and ``provision`` (accounts and ACLs from
teams.toml), ``certs`` (a development CA and certificate)."""
