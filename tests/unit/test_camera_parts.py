"""The camera's pure parts: source kinds, the one-frame slot, repeat suppression."""

from __future__ import annotations

import numpy as np
import pytest

from device_drivers.camera import CodeDeduplicator, LatestFrame, source_kind

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (0, "device"),
        ("2", "device"),
        ("rtsp://10.0.0.5/stream1", "stream"),
        ("http://cam.local/mjpg", "stream"),
        ("frames/%03d.png", "sequence"),
        ("/var/lib/floor/table.mp4", "file"),
    ],
)
def test_source_kind(source: int | str, kind: str) -> None:
    assert source_kind(source) == kind


def test_latest_frame_keeps_only_the_newest_and_counts_the_dropped() -> None:
    slot = LatestFrame()
    frames = [np.full((2, 2), i, np.uint8) for i in range(5)]
    for frame in frames:
        slot.put(frame)
    taken = slot.take(timeout=0.01)
    assert taken is frames[-1]
    assert slot.dropped == 4
    assert slot.take(timeout=0.01) is None


def test_a_code_in_view_is_reported_once() -> None:
    dedupe = CodeDeduplicator(window_s=2.0)
    sightings = [dedupe.is_new("TRK1", t / 10) for t in range(0, 100)]  # 10 s in view
    assert sightings.count(True) == 1


def test_a_code_is_reported_again_after_the_window_out_of_view() -> None:
    dedupe = CodeDeduplicator(window_s=2.0)
    assert dedupe.is_new("TRK1", 0.0)
    assert not dedupe.is_new("TRK1", 1.9)
    assert not dedupe.is_new("TRK1", 3.5)  # seen 1.6 s before: still the same sighting
    assert dedupe.is_new("TRK1", 5.6)
    assert dedupe.is_new("TRK2", 5.6)


def test_zero_window_reports_every_sighting() -> None:
    dedupe = CodeDeduplicator(window_s=0.0)
    assert all(dedupe.is_new("A", t) for t in (0.0, 0.0, 0.1))


def test_memory_of_old_codes_is_bounded() -> None:
    dedupe = CodeDeduplicator(window_s=1.0)
    for i in range(2000):
        dedupe.is_new(f"code-{i}", float(i))
    assert len(dedupe._seen) <= 257
