"""A short soak (benchmarks/soak.py, about 40 s): two monitors under SIGKILLs, terminated database
backends and an events service that hangs, flaps and refuses; then the invariants from the
database: one history row and one event per change, every event delivered or dead, none lost."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_short_soak_keeps_every_invariant(pg_server):
    if str(ROOT) not in sys.path:  # benchmarks/ sits beside the package, not inside it
        sys.path.insert(0, str(ROOT))
    from benchmarks import soak

    args = argparse.Namespace(postgres=pg_server, chaos=25.0, drain=60.0, instruments=25, flip=0.03, seed=23)
    figures = soak.run(args)

    assert figures["problems"] == []
    assert figures["changes"] > 0 and figures["delivered"] > 0
    assert figures["monitor_sigkills"] >= 1 and figures["backends_terminated"] >= 1
    assert figures["pending"] == 0
