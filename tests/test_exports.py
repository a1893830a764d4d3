"""The one rule of CSV/TSV export cells: formula-looking text is quoted, numbers never change."""

import pytest

from ooi_status.exports import csv_row


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("-inf", "'-inf"),
        ("CE02SHBP-LJ01D-06-CTDBPN106", "CE02SHBP-LJ01D-06-CTDBPN106"),
        ("a=b", "a=b"),
        ("", ""),
        # Numbers, negative ones included, are written as they are.
        (-3, -3),
        (-0.25, -0.25),
        (0, 0),
        (None, None),
        ("-3", "-3"),
        ("-0.25", "-0.25"),
        ("+12.5e-3", "+12.5e-3"),
        ("-.5", "-.5"),
    ],
)
def test_cells(cell, written):
    assert csv_row([cell]) == [written]


def test_a_row_keeps_its_order():
    assert csv_row(("=a", 1, "b", "-1")) == ["'=a", 1, "b", "-1"]
