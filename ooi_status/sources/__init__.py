"""Where stream and bin metadata come from: the factories pick the reader the settings name."""

from __future__ import annotations

from ooi_status.config import Settings
from ooi_status.db import Databases
from ooi_status.sources.base import DeploymentSource, SourceUnavailable, StreamSource
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource


def stream_source(settings: Settings, databases: Databases) -> StreamSource:
    """The StreamSource of STREAM_SOURCE; nothing else needs to know which one it is."""
    if settings.STREAM_SOURCE == "cassandra":
        # Imported here: the driver chooses its event loop (gevent or not) when first imported.
        from ooi_status.sources.cassandra import CassandraStreamSource

        return CassandraStreamSource(settings)
    return PostgresStreamSource(databases.metadata)


def deployment_source(databases: Databases) -> DeploymentSource:
    """Deployments and asset UIDs always come from the metadata database (METADATA_URL)."""
    return PostgresDeploymentSource(databases.metadata, databases.metadata_reads)


__all__ = ["DeploymentSource", "SourceUnavailable", "StreamSource", "deployment_source", "stream_source"]
