"""api.cooperative: the slices cover everything once and in order, the gzip of slices is the body's
gzip, and in a gevent worker a pause lets a greenlet woken by a socket run."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ooi_status.api import cooperative

ROOT = Path(__file__).resolve().parents[2]


@given(st.lists(st.integers(), max_size=50), st.integers(1, 7))
def test_slices_cover_every_item_once_in_order(items, size):
    parts = list(cooperative.slices(items, size))
    assert [item for part in parts for item in part] == items
    assert all(0 < len(part) <= size for part in parts)


@pytest.mark.parametrize(
    "length", [0, 1, 1000, cooperative.BYTES, cooperative.BYTES + 1, 3 * cooperative.BYTES + 17]
)
def test_the_gzip_of_slices_decompresses_to_the_body(length):
    body = bytes((i * 7919) % 251 for i in range(length))
    packed = cooperative.gzip_slices(body, 6)
    assert packed[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed) == body


def test_in_a_gevent_worker_a_pause_serves_a_greenlet_whose_socket_is_ready():
    """The data are on the socket before the work starts: only a pause can let its reader run
    before the work ends (outside gevent, pause does nothing)."""
    script = textwrap.dedent(
        """
        from gevent import monkey; monkey.patch_all()
        import socket, gevent
        from ooi_status.api import cooperative
        a, b = socket.socketpair()
        seen = []
        reader = gevent.spawn(lambda: seen.append(a.recv(10)))
        gevent.sleep(0)  # the reader now waits on its socket
        b.sendall(b"ready")
        order = []
        for part in cooperative.slices(list(range(30)), 10):
            order.append(("slice", bool(seen)))
        reader.join()
        print(order)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[('slice', False), ('slice', True), ('slice', True)]", done.stderr
