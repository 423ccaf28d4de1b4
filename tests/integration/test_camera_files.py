"""The OpenCV camera on real files: a video written with cv2.VideoWriter, an image sequence,
a region of interest, slow decoding (frames dropped, not queued), and the bad cases: a file
that does not exist, a camera that returns empty frames, a camera that goes away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import zxingcpp

from bench.barcode_images import symbol_image
from device_drivers.base import CameraState, Scan, StateChange
from device_drivers.camera import CameraOpenError, OpenCvCamera
from device_drivers.config import CameraConfig
from device_drivers.decoding import Decoded, Decoder
from device_drivers.decoding.zxing import ZxingDecoder
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.integration

WIDTH, HEIGHT = 640, 480


def scene(codes: list[tuple[str, str, int, int]]) -> np.ndarray:
    """A BGR frame with ``(format, text, x, y)`` symbols pasted on a grey table."""
    frame = np.full((HEIGHT, WIDTH), 120, np.uint8)
    for fmt, text, x, y in codes:
        symbol = symbol_image(fmt, text, 3 if fmt != "code128" else 2)
        frame[y : y + symbol.shape[0], x : x + symbol.shape[1]] = symbol
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 60.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


class Recorder:
    def __init__(self, camera: OpenCvCamera) -> None:
        self.scans: list[Scan] = []
        self.states: list[StateChange[CameraState]] = []
        camera.on_scan(self.scans.append)
        camera.on_state_change(self.states.append)

    def wait_for(self, check: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.01)
        return check()


def camera(source: int | str, **config: Any) -> tuple[OpenCvCamera, Recorder]:
    settings = {"reconnect_min_s": 0.05, "reconnect_max_s": 0.2, **config}
    cam = OpenCvCamera("table-camera", CameraConfig(source=source, **settings))
    return cam, Recorder(cam)


def test_video_file_scans_each_code_once_with_symbology_and_position(tmp_path: Path) -> None:
    frame = scene([("qr", "SO-100001", 40, 40), ("code128", "TRK0001000010006", 40, 300)])
    video = write_video(tmp_path / "table.avi", [frame] * 40)
    cam, rec = camera(str(video), decoder="both", fps=200)
    cam.start()
    assert cam.wait_finished(20)
    cam.stop()
    by_text = {s.text: s for s in rec.scans}
    assert sorted(by_text) == ["SO-100001", "TRK0001000010006"]
    assert len(rec.scans) == 2  # 40 frames, each code once
    qr = by_text["SO-100001"]
    assert (qr.symbology, qr.aim, qr.source) == (Symbology.QR, "]Q1", "table-camera")
    assert qr.position is not None
    assert abs(qr.position[0] - 40 - 46) < 12 and abs(qr.position[1] - 40 - 46) < 12
    code = by_text["TRK0001000010006"]
    assert (code.symbology, code.aim) == (Symbology.CODE128, "]C0")
    assert code.position is not None and 300 < code.position[1] < 300 + 80
    assert [c.new for c in rec.states][:2] == [CameraState.CONNECTING, CameraState.READY]
    assert "end of" in cam.last_error
    assert cam.state is CameraState.STOPPED
    stats = cam.stats()
    assert stats.frames_captured == 40 and stats.scans == 2


def test_image_sequence_and_gs1_datamatrix(tmp_path: Path) -> None:
    barcode = zxingcpp.create_barcode(
        "(01)09506000134352(10)LOT42", zxingcpp.BarcodeFormat.DataMatrix, gs1=True
    )
    symbol = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=4))
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(5):
        frame = np.full((HEIGHT, WIDTH), 200, np.uint8)
        frame[100 : 100 + symbol.shape[0], 50 + 20 * i : 50 + 20 * i + symbol.shape[1]] = symbol
        cv2.imwrite(str(frames / f"{i:03d}.png"), frame)
    cam, rec = camera(str(frames / "%03d.png"), decoder="zxingcpp", fps=100)
    cam.start()
    assert cam.wait_finished(20)
    cam.stop()
    [scan] = rec.scans
    assert scan.symbology is Symbology.GS1_DATAMATRIX and scan.aim == "]d2"
    assert scan.text == "0109506000134352" + "10LOT42"
    assert scan.with_aim.startswith("]d201")


def test_region_of_interest_reports_only_codes_inside_in_frame_coordinates(
    tmp_path: Path,
) -> None:
    frame = scene([("qr", "OUTSIDE", 20, 20), ("qr", "INSIDE", 400, 250)])
    video = write_video(tmp_path / "roi.avi", [frame] * 10)
    cam, rec = camera(str(video), roi=(350, 200, 290, 280), fps=200)
    cam.start()
    assert cam.wait_finished(20)
    cam.stop()
    assert [s.text for s in rec.scans] == ["INSIDE"]
    position = rec.scans[0].position
    assert position is not None
    assert abs(position[0] - (400 + 45)) < 12 and abs(position[1] - (250 + 45)) < 12


def test_roi_outside_the_frame_is_an_error_state(tmp_path: Path) -> None:
    video = write_video(tmp_path / "x.avi", [scene([])] * 5)
    cam, rec = camera(str(video), roi=(5000, 5000, 10, 10), fps=200)
    cam.start()
    assert cam.wait_finished(20)
    cam.stop()
    assert any("lies outside the 640x480 frame" in c.error for c in rec.states)
    assert rec.scans == []


def test_a_camera_file_that_does_not_exist(tmp_path: Path) -> None:
    cam, rec = camera(str(tmp_path / "gone.mp4"))
    cam.start()
    assert rec.wait_for(lambda: cam.state is CameraState.ERROR)
    assert "does not exist" in cam.last_error
    time.sleep(0.3)  # retried with backoff, still an error, never a crash
    cam.stop()
    assert cam.state is CameraState.STOPPED
    assert rec.scans == []
    assert not any(
        t.name.startswith("table-camera") and t.is_alive() for t in threading.enumerate()
    )


def test_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video")
    cam, _rec = camera(str(bogus))
    cam.start()
    deadline = time.monotonic() + 10
    while cam.state is not CameraState.ERROR and time.monotonic() < deadline:
        time.sleep(0.01)
    cam.stop()
    assert "cannot read video file" in cam.last_error or "no frames" in cam.last_error


def test_a_stream_that_is_not_there_is_disconnected() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    cam, rec = camera(f"http://127.0.0.1:{port}/video.mjpg")
    cam.start()
    # the camera is DISCONNECTED before its thread first tries too: wait for the failure
    assert rec.wait_for(lambda: cam.state is CameraState.DISCONNECTED and bool(cam.last_error))
    cam.stop()
    assert f"cannot open stream http://127.0.0.1:{port}/video.mjpg" in cam.last_error


class FlakyCamera:
    """A live camera (device index) that delivers frames, then empty frames, then frames."""

    def __init__(self, script: list[str], frame: np.ndarray) -> None:
        self.script = script
        self.frame = frame

    def isOpened(self) -> bool:
        return True

    def read(self) -> tuple[bool, Any]:
        time.sleep(0.002)
        step = self.script.pop(0) if self.script else "frame"
        if step == "empty":
            return True, np.zeros((0, 0, 3), np.uint8)
        if step == "fail":
            return False, None
        return True, self.frame

    def get(self, prop: int) -> float:
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        return True

    def release(self) -> None:
        return None


def test_a_camera_that_returns_empty_frames_is_disconnected_then_recovers() -> None:
    frame = scene([("qr", "BACK-AGAIN", 100, 100)])
    opened: list[int] = []
    scripts = [["frame"] * 3 + ["empty"] * 6 + ["fail"] * 6, []]

    def opener(source: int | str) -> FlakyCamera:
        opened.append(1)
        if len(opened) == 2:
            raise CameraOpenError("cannot open camera 0 (/dev/video0)")  # still unplugged
        return FlakyCamera(scripts.pop(0) if scripts else [], frame)

    cam = OpenCvCamera(
        "table-camera",
        CameraConfig(source=0, reconnect_min_s=0.05, reconnect_max_s=0.1),
        opener=opener,
    )
    rec = Recorder(cam)
    cam.start()
    assert rec.wait_for(lambda: any(c.new is CameraState.DISCONNECTED for c in rec.states))
    assert rec.wait_for(lambda: len(opened) >= 3 and cam.state is CameraState.READY)
    cam.stop()
    disconnected = [c for c in rec.states if c.new is CameraState.DISCONNECTED]
    assert "returned 10 empty frames in a row" in disconnected[0].error
    assert "cannot open camera 0" in disconnected[1].error
    assert cam.stats().empty_frames >= 10
    assert [s.text for s in rec.scans] == ["BACK-AGAIN"]  # seen before and after: once


class SlowDecoder:
    """Decodes like zxing-cpp but takes 50 ms a frame."""

    name = "slow"

    def __init__(self) -> None:
        self.inner = ZxingDecoder()
        self.seen: list[int] = []

    def decode(self, image: Any) -> list[Decoded]:
        time.sleep(0.05)
        self.seen.append(int(image[0, 0]))
        return self.inner.decode(image)


def test_slow_decoding_drops_frames_instead_of_queueing(tmp_path: Path) -> None:
    frames = []
    for i in range(60):
        frame = scene([("qr", f"CODE-{i // 20}", 100, 100)])
        frame[0, 0] = i  # frame number in the corner pixel
        frames.append(frame)
    path = tmp_path / "frames"
    path.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(path / f"{i:03d}.png"), frame)
    slow = SlowDecoder()
    decoder: Decoder = slow
    cam = OpenCvCamera(
        "table-camera", CameraConfig(source=str(path / "%03d.png"), fps=200), decoder=decoder
    )
    rec = Recorder(cam)
    cam.start()
    assert cam.wait_finished(30)
    cam.stop()
    stats = cam.stats()
    assert stats.frames_captured == 60
    assert stats.frames_dropped > 30
    assert stats.frames_decoded + stats.frames_dropped == 60
    assert slow.seen == sorted(slow.seen)  # always the newest frame, never an old one
    assert slow.seen[-1] == 59  # the last frame is decoded, not lost behind a queue
    assert [s.text for s in rec.scans][-1] == "CODE-2"


def test_decoder_unavailable_is_an_error_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from device_drivers import camera as camera_module
    from device_drivers.decoding import DecoderUnavailable

    def broken(config: CameraConfig) -> Decoder:
        raise DecoderUnavailable("pyzbar cannot load ZBar; install libzbar0")

    monkeypatch.setattr(camera_module, "camera_decoder", broken)
    cam = OpenCvCamera("table-camera", CameraConfig(source=0, decoder="pyzbar"))
    cam.start()
    assert cam.state is CameraState.ERROR and "libzbar0" in cam.last_error
    cam.stop()


def test_the_factory_builds_this_camera() -> None:
    from device_drivers.factory import build_camera

    built = build_camera(CameraConfig(source="/nonexistent.mp4"))
    assert isinstance(built, OpenCvCamera)
