"""Camera: frames per second decoded from 1280x720 frames on one core (key fps_720p).

``floor-bench camera --json`` renders ``--frames`` (default 40) different 1280x720 frames of
a packing table (a shipping label with a Code 128 tracking number and a QR code, and a
product's EAN-13, each turned and placed at random, with blur and sensor noise), pins the
process to one CPU core, and runs the real :class:`~device_drivers.camera.OpenCvCamera`
(capture thread, one-frame slot, decode thread) on a source that hands out those frames
as fast as they are taken, for ``--seconds`` (default 2) per run and ``--runs`` (default 3)
runs per decoder; the figure is the best run (other work on the machine only ever slows a
run down), the median is reported beside it. It prints one JSON object with:

* ``fps_720p``: frames decoded per second with the app's decoder (``both``: zxing-cpp on
  every frame, ZBar beside it on every eighth); goal at least 30;
* ``fps_720p_<backend>`` for ``zxingcpp`` and ``pyzbar`` alone;
* ``found_per_frame_<backend>``: of the three codes in each frame, how many a frame's
  decode found (on the frames decoded; the camera reports each code once per window);
* ``decode_ms_<backend>``: mean decode time of a frame;
* ``fps_720p_median_<backend>``: the median of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from typing import Any

import cv2

from bench.barcode_images import table_frame
from device_drivers.base import CameraState
from device_drivers.camera import OpenCvCamera
from device_drivers.config import CameraConfig
from device_drivers.decoding import Decoded, Decoder


class _FrameLoop:
    """A frame source that cycles through prepared frames without waiting."""

    def __init__(self, frames: list[Any]) -> None:
        self.frames = frames
        self.index = 0

    def isOpened(self) -> bool:
        return True

    def read(self) -> tuple[bool, Any]:
        frame = self.frames[self.index % len(self.frames)]
        self.index += 1
        time.sleep(0.001)  # a real capture blocks until the next frame; yield the core
        return True, frame

    def get(self, prop: int) -> float:
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        return False

    def release(self) -> None:
        return None


class _CountingDecoder:
    """Wraps a decoder and counts how many of each frame's codes it found."""

    def __init__(self, inner: Decoder, expected: set[str]) -> None:
        self.inner = inner
        self.name = inner.name
        self.expected = expected
        self.found = 0
        self.frames = 0

    def decode(self, image: Any) -> list[Decoded]:
        reads = self.inner.decode(image)
        self.found += len(self.expected & {r.text for r in reads})
        self.frames += 1
        return reads


def _pin_to_one_core() -> int | None:
    cv2.setNumThreads(1)
    if not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[-1]})
    return cores[-1]


def _run(
    decoder_name: str, frames: list[Any], expected: set[str], seconds: float
) -> dict[str, float]:
    config = CameraConfig(source=0, decoder=decoder_name)
    camera = OpenCvCamera("bench-camera", config, opener=lambda _source: _FrameLoop(frames))
    assert camera.decoder is not None
    counting = _CountingDecoder(camera.decoder, expected)
    camera.decoder = counting
    ready = threading.Event()
    camera.on_state_change(lambda change: ready.set() if change.new is CameraState.READY else None)
    camera.start()
    ready.wait(10)
    start_frames = camera.stats().frames_decoded
    started = time.perf_counter()
    time.sleep(seconds)
    stats = camera.stats()
    elapsed = time.perf_counter() - started
    camera.stop()
    decoded = stats.frames_decoded - start_frames
    return {
        "fps": round(decoded / elapsed, 1),
        "found_per_frame": round(counting.found / max(1, counting.frames), 2),
        "decode_ms": round(stats.decode_ms_mean, 1),
        "dropped": stats.frames_dropped,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="floor-bench camera", description=__doc__)
    parser.add_argument("--frames", type=int, default=40, help="different frames to cycle")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per decoder (best counts)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    core = _pin_to_one_core()
    rng = random.Random(args.seed)
    scenes = [table_frame(rng) for _ in range(args.frames)]
    frames = [cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) for frame, _texts in scenes]
    # Every frame has codes of its own, so a read found in any frame's texts is a find.
    expected = {text for _frame, texts in scenes for text in texts}
    result: dict[str, Any] = {"benchmark": "camera", "frame": "1280x720", "core": core}
    for name in ("both", "zxingcpp", "pyzbar"):
        runs = [_run(name, frames, expected, args.seconds) for _ in range(max(1, args.runs))]
        best = max(runs, key=lambda r: r["fps"])
        suffix = "" if name == "both" else f"_{name}"
        key = "pipeline" if name == "both" else name
        result[f"fps_720p{suffix}"] = best["fps"]
        result[f"fps_720p_median_{key}"] = statistics.median(r["fps"] for r in runs)
        result[f"found_per_frame_{key}"] = best["found_per_frame"]
        result[f"decode_ms_{key}"] = best["decode_ms"]
    result["goal_fps_720p"] = 30
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
