"""``floor-bench site-load`` on a small site: its files load, their dry run says what the load
does, the reload changes nothing, and the figures come out as JSON."""

from __future__ import annotations

import json

import pytest

from bench.__main__ import main

pytestmark = pytest.mark.integration


def test_site_load_bench_on_a_small_site(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["site-load", "--items", "300", "--locations", "200", "--stock", "600"]
    assert main([*argv, "--users", "3", "--sqlite", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["benchmark"] == "site-load" and figures["database"] == "sqlite"
    assert figures["items"] == 300 and figures["barcodes"] == 600
    assert 0 < figures["stock_rows"] <= 600
    for key in ("dry_run_s", "load_s", "reload_s", "peak_rss_mb"):
        assert figures[key] > 0
