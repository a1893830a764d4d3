"""Every setting of ooi_status, its default, and what it does.

Override them in a Python file named by the OOISTATUS_SETTINGS environment
variable, or one by one with environment variables ``OOISTATUS_<NAME>``
(lists comma-separated or JSON, dicts JSON, booleans true/false).
Precedence: these defaults < the settings file < the environment.
An ``OOISTATUS_`` variable naming no setting is refused (exit status 2), except
OOISTATUS_SETTINGS, run_gunicorn.sh's OOISTATUS_WORKERS, OOISTATUS_BIND,
OOISTATUS_ACCESS_LOG, OOISTATUS_ERROR_LOG, and the test suite's OOISTATUS_TEST_* and
OOISTATUS_REGENERATE_GOLDEN.
"""

# --- databases -------------------------------------------------------------
# Folder for the embedded SQLite databases (created on first use), relative to the working directory.
DATA_DIR = "data"
# SQLAlchemy URL of the monitor's own schema; None = SQLite file DATA_DIR/monitor.sqlite.
MONITOR_URL = None
# SQLAlchemy URL of the OOI metadata database (read-only); None = SQLite file DATA_DIR/metadata.sqlite.
METADATA_URL = None
# Seconds a database may take to answer one statement before the request or round gives up.
DB_STATEMENT_TIMEOUT = 30
# Seconds an API request waits for another process's write lock on a SQLite database before it
# answers 503 ("is busy"; the monitor waits up to DB_STATEMENT_TIMEOUT).
SQLITE_BUSY_TIMEOUT = 5.0
# Connections kept per process and per database in the pool (PostgreSQL).
DB_POOL_SIZE = 5
# When ooi_status_monitor brings the monitor schema up to date itself before it starts:
# "sqlite" (only the embedded SQLite database), "always", or "never" (a DBA runs ooi_status_db upgrade head).
AUTO_MIGRATE = "sqlite"
# Where stream and bin metadata are read from: "postgres" (METADATA_URL) or "cassandra".
STREAM_SOURCE = "postgres"

# --- monitor ---------------------------------------------------------------
# Seconds between check rounds (aligned to the clock: 60 = every minute at :00).
CHECK_INTERVAL = 60
# Seconds between delivery rounds of queued events.
NOTIFY_INTERVAL = 60
# Seconds after the check that the delivery round runs.
NOTIFY_OFFSET = 10
# Delivery methods whose streams are checked.
MONITORED_METHODS = ["telemetered", "streamed"]
# Seconds over which the particle rate of a stream is measured from its count.
RATE_WINDOW = 600
# A stream with expected_rate > 0 measured below this fraction of it is degraded.
RATE_DEGRADED_FRACTION = 0.5
# Seconds a round may run before SIGTERM stops waiting for it.
SHUTDOWN_GRACE = 30
# File used as the leader lock when the monitor database is SQLite; None = DATA_DIR/monitor.lock.
LOCK_FILE = None
# Seconds a standby monitor waits between attempts to take the leader lock.
STANDBY_POLL = 5

# --- event delivery --------------------------------------------------------
# Scheme and host of the OOI events API.
NOTIFY_URL_ROOT = "http://localhost"
# Port of the OOI events API.
NOTIFY_URL_PORT = 12587
# Seconds to wait for the events API to answer one POST.
NOTIFY_TIMEOUT = 10.0
# 4xx answers after which an event is set aside as dead.
MAX_STATUS_POST_FAILURES = 5
# First retry delay in seconds after a 5xx, timeout or refused connection; doubles each time.
RETRY_BACKOFF = 30
# Longest retry delay in seconds.
RETRY_BACKOFF_MAX = 900
# Seconds a delivery round holds its claim on an event before another may take it.
CLAIM_LEASE = 120
# Most events sent in one delivery round.
DELIVERY_BATCH_SIZE = 5000
# Extra URLs that receive every status event as JSON (same outbox rules).
WEBHOOK_URLS: list[str] = []

# --- notifications for people (e-mail and chat) --------------------------------
# Base URL of the web page, for the instrument links in messages (no trailing slash needed).
PUBLIC_URL = "http://localhost:9000"
# Instruments of one node changing in one round that make a single summary line for the node.
NOTIFY_GROUP_MIN = 3
# Status changes within FLAP_WINDOW that make a stream flapping (held out of immediate messages).
FLAP_CHANGES = 4
# Seconds of the flapping window; a flapping stream is notified again once stable this long.
FLAP_WINDOW = 3600
# Seconds a stream's new status must hold before an immediate message tells it (0: tell at
# once). A change undone within the hold is never told; at most FLAP_WINDOW.
NOTIFY_HOLD = 0
# Hour of the day (UTC, 0-23) at which the daily digest is sent.
DIGEST_HOUR = 7
# SMTP server that sends the e-mail messages.
SMTP_HOST = "localhost"
# Its port (25, 587 for STARTTLS, 465 for TLS).
SMTP_PORT = 25
# Transport security: "none", "starttls" (upgrade after connecting) or "tls" (TLS from the start).
SMTP_SECURITY = "none"
# User name for SMTP AUTH, or None to send without logging in.
SMTP_USERNAME = None
# Password for SMTP AUTH (never logged).
SMTP_PASSWORD = None
# Sender address of the e-mail messages.
EMAIL_FROM = "ooi_status@localhost"

# --- availability (AVAILABILITY.md) -----------------------------------------
# Gap threshold as a fraction of the window ("0.1% of the deployment time").
GAP_THRESHOLD_FRACTION = 0.001
# Fewest bins in the window for the dense-data (gap-finding) rules.
MIN_BINS_FOR_GAPS = 10
# Ratio of bin separation to mean interval where Sparsity Level 1 starts.
SPARSE_DATA_MIN = 1.0
# Ratio where Sparsity Level 2 starts.
SPARSE_DATA_MID = 1.5
# Ratio where Sparsity Level 3 starts.
SPARSE_DATA_MAX = 2.0
# Category labels of the timeline.
AVAILABILITY_LABELS = {
    "present": "Present",
    "missing": "Missing",
    "not_expected": "Not Expected",
    "sparse1": "Sparsity Level 1",
    "sparse2": "Sparsity Level 2",
    "sparse3": "Sparsity Level 3",
}
# Color of each category label.
AVAILABILITY_COLORS = {
    "Missing": "#d9534d",
    "Not Expected": "#ffffff",
    "Present": "#5cb85c",
    "Sparsity Level 1": "#7bcb7b",
    "Sparsity Level 2": "#90d890",
    "Sparsity Level 3": "#ace9ac",
}
# Deployment label template and the two alternating colors of the Deployments row.
DEPLOYMENT_LABEL = "Deployment: {number}"
DEPLOYMENT_COLORS = ["#0073cf", "#cf5c00"]
# Methods left out of /available when no method is given (prefix match).
AVAILABILITY_EXCLUDED_METHOD_PREFIX = "bad"
# Seconds clients may cache an availability answer (Cache-Control max-age); also the longest
# time a process reuses bins it read, and only while the stream's metadata row is unchanged.
AVAILABILITY_CACHE_SECONDS = 60
# Bins each API process keeps for repeated availability requests (~200 bytes each); 0 = off.
AVAILABILITY_BIN_CACHE_ROWS = 100_000
# On PostgreSQL with the bin cache off (AVAILABILITY_BIN_CACHE_ROWS = 0), let the database do the
# per-bin part of the rules that needs no neighbour and send each bin's points and the few bins
# that matter instead of every bin whole (same spans; less CPU on both sides than reading them).
AVAILABILITY_RULES_IN_DATABASE = True

# --- Cassandra (STREAM_SOURCE = "cassandra") --------------------------------
# Contact points of the Cassandra cluster.
CASSANDRA_CONTACT_POINTS = ["127.0.0.1"]
# Native-protocol port.
CASSANDRA_PORT = 9042
# Keyspace holding stream_metadata and partition_metadata.
CASSANDRA_KEYSPACE = "ooi"
# User name, or None for no authentication.
CASSANDRA_USERNAME = None
# Password (never logged).
CASSANDRA_PASSWORD = None
# Native protocol version.
CASSANDRA_PROTOCOL_VERSION = 4
# Consistency level name of every read (e.g. LOCAL_ONE, QUORUM).
CASSANDRA_CONSISTENCY = "LOCAL_ONE"
# Seconds before one Cassandra request times out.
CASSANDRA_REQUEST_TIMEOUT = 10.0
# Rows per page of a Cassandra result.
CASSANDRA_FETCH_SIZE = 5000

# --- coverage reports ------------------------------------------------------
# Most seconds the monitor spends updating the coverage table after a check round (never past the next check).
COVERAGE_BUDGET_SECONDS = 10.0
# Seconds an open deployment's coverage may lag its stream's newest bins (0: recomputed with every change).
COVERAGE_OPEN_DEPLOYMENT_SECONDS = 3600
# Seconds after which a stream's coverage is recomputed whole (deployment edits, streams gone quiet).
COVERAGE_REFRESH_SECONDS = 86400

# --- API -------------------------------------------------------------------
# Write keys: {name: "sha256:<hex digest>"}; print a new one with `ooi_status_monitor --new-api-key NAME`.
API_KEYS: dict[str, str] = {}
# When true, reads need a key too.
API_REQUIRE_KEY_FOR_READS = False
# Seconds after which a monitor heartbeat is stale for /health; None = 3 × CHECK_INTERVAL.
HEALTH_MAX_HEARTBEAT_AGE = None

# --- API answers: kept by data revision, compressed -------------------------
# Bytes of encoded list answers each API process keeps for the current data revision; 0 = none.
# As much again at most for the coverage report's rows kept between revisions (PostgreSQL).
API_ANSWER_CACHE_BYTES = 64 * 1024 * 1024
# Answers smaller than this many bytes are sent uncompressed even to clients that accept gzip.
API_GZIP_MIN_BYTES = 1024
# gzip level of compressed answers (1 fastest .. 9 smallest).
API_GZIP_LEVEL = 6

# --- port-agent statistics (AMQP) -------------------------------------------
# Broker of the port agents' byte counts (amqp://user:pass@host:5672/%2F); None = no consumer.
AMQP_URL = None
# Queue the monitor consumes port-agent statistics from; bad messages go to "<AMQP_QUEUE>.dead".
AMQP_QUEUE = "port_agent_stats"
# Days raw port counts are kept before they are rolled up into hourly sums.
PORT_COUNT_RAW_DAYS = 7
# Days hourly port-count sums are kept.
PORT_COUNT_HOURLY_DAYS = 400
# Most messages stored (and then acknowledged) in one transaction of the consumer.
PORT_COUNT_BATCH_SIZE = 500
# Seconds a partial batch waits for more messages before it is stored anyway.
PORT_COUNT_BATCH_SECONDS = 0.5
# Longest wait in seconds between reconnection attempts to the broker (backoff doubles from 1 s).
AMQP_RECONNECT_MAX = 60.0
# Seconds between retention passes (roll-up and pruning) of the port counts.
PORT_COUNT_UPKEEP_INTERVAL = 600
# Rows rolled up or pruned per transaction of a retention pass.
PORT_COUNT_UPKEEP_BATCH = 5000

# --- logging ---------------------------------------------------------------
# Level of the ooi_status loggers (DEBUG, INFO, WARNING, ERROR).
LOG_LEVEL = "INFO"
# Log line format of every process: "text" (time level process[pid] logger: message) or "json".
LOG_FORMAT = "text"

# --- metrics (/metrics) ------------------------------------------------------
# Export ooi_status_stream_data_age_seconds, one series per deployed stream (off for very large fleets).
METRICS_STREAM_DATA_AGE = True
