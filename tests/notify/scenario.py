"""One fixed scenario for the golden texts of every message (reviewed by hand in notify/golden/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ooi_status.notify.digest import ActiveSilence, DigestFacts, PastChange, StreamState
from ooi_status.notify.messages import SETTLED, STILL, Audience, Item, Layout

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
LAYOUT = Layout(group_min=3, public_url="https://ooi.example.org/status/")
NODE = "CE01ISSM-MFD35"
EVERYONE = Audience(1, "email", "ops@example.org", "", "degraded", "both")
CE01_FAILED = Audience(2, "chat", "https://chat.example.org/hooks/x", "CE01ISSM", "failed", "immediate")


def _age(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


ROUND_ITEMS = [
    Item(f"{NODE}-04-ADCPTM000", "telemetered", "adcp_velocity_earth", "operational", "failed",
         data_age=_age(121)),
    Item(f"{NODE}-04-ADCPTM000", "telemetered", "adcp_engineering", "operational", "failed",
         data_age=_age(121)),
    Item(f"{NODE}-01-VELPTA000", "telemetered", "velpt_ab_dcl_instrument", "operational", "failed",
         data_age=_age(95),
         note="no bytes from the port agent since 2026-12-01 05:25:00 (instrument or communications)"),
    Item(f"{NODE}-02-PRESFA000", "telemetered", "presf_abc_dcl_tide_measurement", "operational", "failed",
         data_age=_age(95)),
    Item(f"{NODE}-03-CTDBPC000", "telemetered", "ctdbp_cdef_dcl_instrument", "degraded", "failed",
         data_age=_age(95)),
    Item(f"{NODE}-05-PCO2WB000", "telemetered", "pco2w_abc_dcl_instrument", "operational", "failed",
         data_age=_age(95)),
    Item(f"{NODE}-06-PHSEND000", "telemetered", "phsen_abcdef_dcl_instrument", "failed", "operational",
         data_age=_age(1)),
    Item("CE02SHBP-LJ01D-06-CTDBPN106", "streamed", "ctdbp_no_sample", "operational", "degraded",
         data_age=_age(45)),
    Item("CE04OSPS-SF01B-2A-CTDPFA107", "streamed", "ctdpf_sbe43_sample", "failed", "failed", kind=STILL,
         data_age=timedelta(days=1, hours=2), since=NOW - timedelta(days=1)),
    Item("RS01SBPS-PC01A-4A-CTDPFA103", "streamed", "ctdpf_optode_sample", "degraded", "degraded",
         kind=SETTLED, data_age=_age(12)),
]  # fmt: skip

DIGEST_FACTS = DigestFacts(
    now=NOW,
    statuses=[
        *((f"{NODE}-0{i}-X", "failed") for i in range(1, 6)),
        (f"{NODE}-06-PHSEND000", "operational"),
        (f"{NODE}-06-PHSEND000", "notTracked"),
        ("CE02SHBP-LJ01D-06-CTDBPN106", "degraded"),
        ("RS01SBPS-PC01A-4A-CTDPFA103", "operational"),
    ],
    bad=[
        StreamState(f"{NODE}-04-ADCPTM000", "telemetered", "adcp_velocity_earth", "failed",
                    NOW - timedelta(hours=26), timedelta(hours=28)),
        StreamState("CE02SHBP-LJ01D-06-CTDBPN106", "streamed", "ctdbp_no_sample", "degraded",
                    NOW - timedelta(hours=3), _age(45)),
    ],
    changes=[
        PastChange(NOW - timedelta(hours=3), "CE02SHBP-LJ01D-06-CTDBPN106", "streamed", "ctdbp_no_sample",
                   "operational", "degraded"),
        PastChange(NOW - timedelta(hours=5), f"{NODE}-06-PHSEND000", "telemetered",
                   "phsen_abcdef_dcl_instrument", "failed", "operational"),
    ],
    silences=[ActiveSilence("RS01SBPS", None, None, NOW + timedelta(days=2), "cable repair")],
    uptime={"CE01ISSM": (0.5, 0.875), "CE02SHBP": (0.98, None), "RS01SBPS": (1.0, 0.9995)},
)  # fmt: skip
