"""A synthetic OOI observatory: the metadata database the demo, tests and benchmarks share.

Everything is deterministic from a seed and an explicit ``now``: the same arguments
build the same rows. The rows follow spec/METADATA_SCHEMA.md exactly (the tables of
ooi_status.model.metadata), with real-looking reference designators, stream names
from the OOI expected-intervals table, several deployments per instrument (the last
one usually open), and daily bins with runs of missing days and sparse days.

Live mode (:func:`advance_live`) moves ``last`` and ``count`` of the monitored
streams forward as time passes; some streams stall for a while and recover, and a
few never deliver again (their data stops DEAD_SINCE before the observatory is built, so
they start out failed), so statuses change while a demo runs.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update

from ooi_status.model.metadata import (
    MetadataBase,
    PartitionMetadata,
    StreamMetadata,
    XAsset,
    XDeployment,
    XEvent,
    XInstrument,
)
from ooi_status.times import datetime_to_ntp, datetime_to_unix_ms

DAY = 86_400
DATA = Path(__file__).resolve().parent / "data"
#: The OOI expected-intervals table, and the intervals of the demo's streams it does not list.
EXPECTED_CSV = DATA / "streamed_expected.csv"
DEMO_EXPECTED_CSV = DATA / "demo_expected.csv"
BinRow = tuple[int, int, float, float]  # bin (NTP s), count, first, last

# Instrument classes of cabled sites: streams delivered by the "streamed" method.
CABLED_CLASSES: dict[str, tuple[str, ...]] = {
    "CTDBP": ("ctdbp_no_sample", "ctdbp_no_hardware", "ctdbp_no_status"),
    "ADCPT": ("adcp_velocity_beam", "adcp_engineering", "adcp_config"),
    "BOTPT": ("botpt_nano_sample", "botpt_iris_sample", "botpt_lily_sample", "botpt_heat_sample"),
    "FLORT": ("flort_d_data_record", "flort_d_status"),
    "OPTAA": ("optaa_sample", "optaa_status"),
    "PHSEN": ("phsen_data_record", "phsen_regular_status"),
    "PREST": ("prest_real_time", "prest_device_status"),
    "SPKIR": ("spkir_data_record", "spkir_a_configuration_record"),
    "THSPH": ("thsph_sample",),
    "TMPSF": ("tmpsf_sample",),
    "VEL3D": ("vel3d_cd_velocity_data", "vel3d_cd_system_data"),
    "HPIES": ("horizontal_electric_field", "echo_sounding", "hpies_status", "motor_current"),
}
CABLED_SITES = (
    ("RS01SLBS", "LJ01A"),
    ("RS01SBPS", "PC01A"),
    ("RS03AXPS", "PC03A"),
    ("RS03CCAL", "MJ03F"),
    ("CE02SHBP", "LJ01D"),
    ("CE04OSBP", "LJ01C"),
    ("RS01SUM2", "MJ01B"),
    ("RS03ASHS", "MJ03B"),
)
# Moorings and gliders: telemetered while deployed, recovered_host after recovery.
MOORED_CLASSES: dict[str, str] = {
    "CTDBP": "ctdbp_cdef_dcl_instrument",
    "FLORT": "flort_dj_dcl_instrument",
    "DOSTA": "dosta_abcdjm_dcl_instrument",
    "VELPT": "velpt_ab_dcl_instrument",
    "CTDGV": "ctdgv_m_glider_instrument",
    "PARAD": "parad_m_glider_instrument",
}
MOORED_SITES = (("CE01ISSM", "MFD35"), ("CE06ISSM", "RID16"), ("CP01CNSM", "RID27"), ("GP05MOAS", "GL523"))
MONITORED = ("streamed", "telemetered")


@dataclass
class Observatory:
    """Rows of every metadata table, ready for bulk insertion."""

    assets: list[dict[str, Any]] = field(default_factory=list)
    instruments: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    streams: list[dict[str, Any]] = field(default_factory=list)
    partitions: list[dict[str, Any]] = field(default_factory=list)

    def refdes_list(self) -> list[str]:
        return sorted({f"{s['subsite']}-{s['node']}-{s['sensor']}" for s in self.streams})

    def add_deployment(
        self, refdes: str, number: int, start: datetime, stop: datetime | None, asset_uid: str | None
    ) -> None:
        """One deployment of an instrument; ``asset_uid`` None = an asset without UID."""
        subsite, node, sensor = split_refdes(refdes)
        asset_id = len(self.assets) + 1
        event_id = len(self.events) + 1
        self.assets.append({"assetid": asset_id, "uid": asset_uid, "assettype": "Sensor", "name": sensor})
        self.instruments.append({"assetid": asset_id, "eventid": None})
        self.events.append(
            {
                "eventid": event_id,
                "eventname": f"{refdes} deployment {number}",
                "eventtype": "DEPLOYMENT",
                "eventstarttime": datetime_to_unix_ms(start),
                "eventstoptime": None if stop is None else datetime_to_unix_ms(stop),
                "datasource": "demo",
                "notes": None,
                "assetuid": asset_uid,
                "lastmodifiedtimestamp": None,
            }
        )
        self.deployments.append(
            {
                "eventid": event_id,
                "subsite": subsite,
                "node": node,
                "sensor": sensor,
                "deploymentnumber": number,
                "versionnumber": 1,
                "editphase": "OPERATIONAL",
                "sassetid": asset_id,
            }
        )

    def add_stream(
        self,
        refdes: str,
        method: str,
        stream: str,
        bins: Sequence[BinRow],
        last: float | None = None,
        count: int | None = None,
    ) -> None:
        """A stream and its bins; ``last``/``count`` default to what the bins say."""
        subsite, node, sensor = split_refdes(refdes)
        key = {"subsite": subsite, "node": node, "sensor": sensor, "method": method, "stream": stream}
        total = sum(b[1] for b in bins) if count is None else count
        first = bins[0][2] if bins else (last or 0.0)
        final = (bins[-1][3] if bins else first) if last is None else last
        self.streams.append(
            {"id": len(self.streams) + 1, **key, "count": total, "first": first, "last": final}
        )
        base = len(self.partitions)
        self.partitions.extend(
            {
                "id": base + i + 1,
                **key,
                "store": "cass",
                "bin": b,
                "count": c,
                "first": f,
                "last": la,
                "modified": None,
            }
            for i, (b, c, f, la) in enumerate(bins)
        )


def split_refdes(refdes: str) -> tuple[str, str, str]:
    subsite, node, sensor = refdes.split("-", 2)
    return subsite, node, sensor


def daily_bins(
    rng: random.Random,
    start: datetime,
    stop: datetime,
    points_per_day: int,
    missing_fraction: float = 0.05,
    sparse_fraction: float = 0.03,
) -> list[BinRow]:
    """Daily bins over [start, stop): runs of 1–20 missing days, sparse days at 20–40 % of the count."""
    bins: list[BinRow] = []
    start_ntp, stop_ntp = datetime_to_ntp(start), datetime_to_ntp(stop)
    day = int(start_ntp // DAY) * DAY
    run_starts = missing_fraction / 10.5  # mean run length of randint(1, 20) is 10.5 days
    while day < stop_ntp:
        if rng.random() < run_starts:
            day += rng.randint(1, 20) * DAY
            continue
        lo, hi = max(day, start_ntp), min(day + DAY, stop_ntp)
        span = hi - lo
        if rng.random() < sparse_fraction:
            count = max(1, int(points_per_day * rng.uniform(0.2, 0.4) * span / DAY))
            first, last = lo + rng.uniform(0, 30), hi - rng.uniform(1, 30)
        else:
            count = max(1, int(points_per_day * span / DAY))
            first, last = lo + rng.uniform(0, 2), hi - rng.uniform(1, 2)
        if last > first:
            bins.append((day, count, first, last))
        day += DAY
    return bins


def _uid(rng: random.Random, refdes: str, prefix: str, index: int, number: int) -> str:
    """An asset UID unique by construction: the instrument's index and the deployment number."""
    sensor_class = split_refdes(refdes)[2][3:8]
    series = f"{chr(65 + rng.randrange(4))}{rng.randrange(10, 99)}"
    return f"{prefix}-{sensor_class}{series}-{index + 1:05d}-{number:02d}"


def _deployment_dates(
    rng: random.Random, history_start: datetime, now: datetime, count: int, open_last: bool
) -> list[tuple[datetime, datetime | None]]:
    total = (now - history_start).days
    length = max(total // count, 2)
    dates: list[tuple[datetime, datetime | None]] = []
    for i in range(count):
        start = history_start + timedelta(days=i * length, hours=rng.randrange(24))
        stop = history_start + timedelta(days=(i + 1) * length - rng.randint(0, min(10, length // 2)))
        dates.append((start, stop))
    if open_last:
        dates[-1] = (dates[-1][0], None)
    else:
        dates[-1] = (dates[-1][0], min(dates[-1][1] or now, now - timedelta(days=30)))
    return dates


def demo_observatory(
    now: datetime, instruments: int = 40, seed: int = 7, history_days: int = 1460
) -> Observatory:
    """A mixed fleet: cabled instruments (streamed) and moorings/gliders (telemetered, recovered_host)."""
    rng = random.Random(seed)
    obs = Observatory()
    history_start = (now - timedelta(days=history_days)).replace(hour=0, minute=0, second=0, microsecond=0)
    for index in range(instruments):
        cabled = index % 4 != 3  # three cabled instruments for one moored or glider instrument
        if cabled:
            code = list(CABLED_CLASSES)[index % len(CABLED_CLASSES)]
            subsite, node = CABLED_SITES[index % len(CABLED_SITES)]
        else:
            code = list(MOORED_CLASSES)[index // 4 % len(MOORED_CLASSES)]
            subsite, node = MOORED_SITES[index // 4 % len(MOORED_SITES)]
        refdes = f"{subsite}-{node}-{index % 90 + 1:02d}-{code}{'ABCN'[index % 4]}{101 + index:03d}"
        retired = rng.random() < 0.1
        dates = _deployment_dates(rng, history_start, now, rng.randint(1, 4), open_last=not retired)
        prefix = "RSINS" if cabled else "CGINS"
        for number, (start, stop) in enumerate(dates, 1):
            obs.add_deployment(refdes, number, start, stop, _uid(rng, refdes, prefix, index, number))
        if cabled:
            _add_cabled_streams(obs, rng, refdes, CABLED_CLASSES[code], dates, now, seed)
        else:
            _add_moored_streams(obs, rng, refdes, MOORED_CLASSES[code], dates, now, seed)
    return obs


def _add_cabled_streams(
    obs: Observatory,
    rng: random.Random,
    refdes: str,
    streams: Iterable[str],
    dates: list[tuple[datetime, datetime | None]],
    now: datetime,
    seed: int,
) -> None:
    for position, stream in enumerate(streams):
        per_day = 86_400 if position == 0 else 144
        bins: list[BinRow] = []
        for start, stop in dates:
            bins.extend(daily_bins(rng, start, stop or now, per_day))
        if bins and dates[-1][1] is None:
            day, count, first, _ = bins[-1]
            bins[-1] = (day, count, first, datetime_to_ntp(now) - rng.uniform(0, 30))
            bins = _stopped_if_dead(bins, seed, len(obs.streams) + 1, now)
        obs.add_stream(refdes, "streamed", stream, bins)


def _add_moored_streams(
    obs: Observatory,
    rng: random.Random,
    refdes: str,
    stream: str,
    dates: list[tuple[datetime, datetime | None]],
    now: datetime,
    seed: int,
) -> None:
    telemetered: list[BinRow] = []
    recovered: list[BinRow] = []
    for start, stop in dates:
        telemetered.extend(daily_bins(rng, start, stop or now, 24, missing_fraction=0.1, sparse_fraction=0.1))
        if stop is not None:
            recovered.extend(daily_bins(rng, start, stop, 1440, missing_fraction=0.02))
    if telemetered and dates[-1][1] is None:
        day, count, first, _ = telemetered[-1]
        telemetered[-1] = (day, count, first, datetime_to_ntp(now) - rng.uniform(0, 1800))
        telemetered = _stopped_if_dead(telemetered, seed, len(obs.streams) + 1, now)
    obs.add_stream(refdes, "telemetered", stream, telemetered)
    if recovered:
        obs.add_stream(refdes, "recovered_host", f"{stream}_recovered", recovered)


#: How long before the demo starts a dead stream delivered its last particle: longer than the
#: fail interval of every monitored demo stream but the gliders', so they start out failed.
DEAD_SINCE = timedelta(hours=4)


def _stopped_if_dead(bins: list[BinRow], seed: int, stream_id: int, now: datetime) -> list[BinRow]:
    """The bins of a live stream, ending DEAD_SINCE before ``now`` when live mode has it dead."""
    if not is_dead(seed, stream_id):
        return bins
    cut = datetime_to_ntp(now - DEAD_SINCE)
    kept = [b for b in bins if b[2] < cut]
    if kept:
        day, count, first, last = kept[-1]
        kept[-1] = (day, count, first, min(last, cut))
    return kept or bins


def fleet_observatory(now: datetime, instruments: int = 3000, seed: int = 11) -> Observatory:
    """Benchmark ``ooi-fleet``: 4 monitored streams per instrument, one open deployment, no bins."""
    rng = random.Random(seed)
    obs = Observatory()
    now_ntp = datetime_to_ntp(now)
    for index in range(instruments):
        refdes = f"FL{index // 1000:02d}SITE-N{index % 1000:04d}-01-CTDBPA{index % 1000:03d}"
        obs.add_deployment(refdes, 1, now - timedelta(days=365), None, f"FLEET-{index:06d}")
        for method in MONITORED:
            for stream in ("fleet_sample", "fleet_status"):
                last = now_ntp - rng.uniform(0, 7200)
                obs.add_stream(refdes, method, stream, (), last=last, count=rng.randrange(1_000, 10**7))
    return obs


def fleet_expected() -> list[dict[str, Any]]:
    """Expected streams of :func:`fleet_observatory` (warn 600 s, fail 1,800 s)."""
    return [
        {"name": stream, "method": method, "expected_rate": 0.0, "warn_interval": 600, "fail_interval": 1800}
        for method in MONITORED
        for stream in ("fleet_sample", "fleet_status")
    ]


TEN_YEAR_REFDES = "CE02SHBP-LJ01D-06-CTDBPN106"


def ten_year_observatory(seed: int = 3, other_instruments: int = 200) -> Observatory:
    """Benchmark ``ooi-10y``: one instrument with 8 streams of daily bins over 2015–2025, plus noise."""
    rng = random.Random(seed)
    obs = Observatory()

    def utc(year: int, month: int, day: int) -> datetime:
        return datetime(year, month, day, tzinfo=UTC)

    for number, (start, stop) in enumerate(
        [(utc(2015, 1, 1), utc(2018, 6, 30)), (utc(2018, 7, 1), utc(2021, 12, 31)), (utc(2022, 1, 1), None)],
        1,
    ):
        obs.add_deployment(TEN_YEAR_REFDES, number, start, stop, f"CGINS-CTDBPN-{50010 + number}")
    for method in ("streamed", "telemetered", "recovered_host", "recovered_inst"):
        for stream in ("ctdbp_no_sample", "ctdbp_no_hardware"):
            obs.add_stream(
                TEN_YEAR_REFDES, method, stream, daily_bins(rng, utc(2015, 1, 1), utc(2025, 1, 1), 86_400)
            )
    for index in range(other_instruments):
        refdes = f"RS{index % 9:02d}NOIS-LJ{index % 7:02d}A-{index % 90:02d}-CTDBPA{index:03d}"
        start = utc(2016, 1, 1) + timedelta(days=index)
        obs.add_deployment(refdes, 1, start, None, f"RSINS-NOISE-{index:05d}")
        obs.add_stream(
            refdes,
            "streamed",
            "ctdbp_no_sample",
            daily_bins(rng, start, start + timedelta(days=100), 86_400, 0, 0),
        )
    return obs


def write_observatory(engine: Engine, obs: Observatory, chunk: int = 20_000) -> None:
    """Create the metadata tables if missing and insert every row, in one transaction."""
    MetadataBase.metadata.create_all(engine)
    tables = (
        (XAsset, obs.assets),
        (XInstrument, obs.instruments),
        (XEvent, obs.events),
        (XDeployment, obs.deployments),
        (StreamMetadata, obs.streams),
        (PartitionMetadata, obs.partitions),
    )
    with engine.begin() as conn:
        for model, rows in tables:
            for offset in range(0, len(rows), chunk):
                conn.execute(insert(model.__table__), rows[offset : offset + chunk])


def _stable_fraction(*parts: object) -> float:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def is_dead(seed: int, stream_id: int) -> bool:
    """A stream live mode never moves: 4 % of them, stable for a seed."""
    return _stable_fraction(seed, stream_id) < 0.04


def live_state(seed: int, stream_id: int, now: datetime, period: int = 300) -> str:
    """ "live", "stalled" (for this period) or "dead" (always), stable for a stream and a period."""
    if is_dead(seed, stream_id):
        return "dead"
    slot = int(now.timestamp()) // period
    return "stalled" if _stable_fraction(seed, stream_id, slot) < 0.12 else "live"


def advance_live(engine: Engine, now: datetime, seed: int = 7) -> int:
    """Move live monitored streams to ``now``; returns how many were advanced."""
    table = StreamMetadata.__table__
    now_ntp = datetime_to_ntp(now)
    rng = random.Random(f"{seed}-{now.isoformat()}")
    with engine.begin() as conn:
        rows = conn.execute(select(table.c.id, table.c.last).where(table.c.method.in_(MONITORED))).all()
        changes = [
            {
                "sid": row.id,
                "new_last": now_ntp - rng.uniform(0, 20),
                "added": max(1, int(now_ntp - row.last)),
            }
            for row in rows
            if row.last < now_ntp and live_state(seed, row.id, now) == "live"
        ]
        if changes:
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("sid"))
                .values(last=bindparam("new_last"), count=table.c.count + bindparam("added")),
                changes,
            )
    return len(changes)
