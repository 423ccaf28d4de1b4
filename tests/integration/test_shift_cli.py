"""floor-shift's command line: bad settings are refused with the reason and change nothing;
a scan that is not what the line asks for is refused like on the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from floor_app.domain.codes import CodeKind
from floor_app.domain.errors import DomainError
from sim.shift import expect_scan, main

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pickers", "0"], "--pickers and --stations must be at least 1"),
        (["--stations", "0"], "--pickers and --stations must be at least 1"),
        (["--orders", "-5"], "--orders and --timeout must not be negative"),
        (["--timeout", "-1"], "--orders and --timeout must not be negative"),
        (["--pace", "-0.5"], "--pace must not be negative"),
        (["--first-picker", "0"], "--first-picker and --first-station must be at least 1"),
        (["--first-station", "0"], "--first-picker and --first-station must be at least 1"),
    ],
)
def test_bad_counts_are_refused(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "shift"
    with pytest.raises(SystemExit) as refused:
        main([*args, "--data-dir", str(data)])
    assert refused.value.code == 2
    assert message in capsys.readouterr().err
    assert not data.exists()


def test_a_broker_url_that_cannot_be_used_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "shift"
    assert main(["--broker", "http://127.0.0.1:1883", "--data-dir", str(data)]) == 2
    assert "must start with mqtt:// or mqtts://" in capsys.readouterr().err
    assert not data.exists()


def test_a_scan_of_the_wrong_code_is_refused_with_what_was_expected() -> None:
    expect_scan("A01-01-1A", CodeKind.LOCATION, "A01-01-1A", "A01-01-1A")
    with pytest.raises(DomainError, match="scanned A01-01-2A, expected A01-01-1A"):
        expect_scan("A01-01-2A", CodeKind.LOCATION, "A01-01-1A", "A01-01-1A")
    with pytest.raises(DomainError, match="expected SKU-00001"):
        expect_scan("A01-01-1A", CodeKind.PRODUCT, "04260123000011", "SKU-00001")
