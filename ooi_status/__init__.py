"""ooi_status: data-ingest status monitor and availability service for the OOI."""

__version__ = "2.0.0"
