"""A camera over the packing table: OpenCV capture, barcodes decoded in a thread of their own.

:class:`OpenCvCamera` reads frames from a device index (``0`` is ``/dev/video0``), a video
file, an image sequence (``frames/%03d.png``) or a stream URL (``rtsp://``, ``http://``).

* Two threads. The capture thread reads frames and puts each into a one-frame slot
  (:class:`LatestFrame`), replacing the one there: when decoding is slower than capture,
  frames are dropped (and counted), never queued, so a scan is never seconds behind.
  The decode thread takes the newest frame, cuts the region of interest, shrinks it to at
  most ``decode_max_side`` pixels and decodes it.
* Each code is reported as a :class:`~device_drivers.base.Scan` with its symbology, AIM
  identifier and centre (in full-frame pixels). The same text is not reported again while
  it stays in view, nor until it has been out of view for ``dedupe_window_s``
  (:class:`CodeDeduplicator`): a label lying on the table is one scan, not one per frame.
* Faults are states, never exceptions: a missing file or a camera that cannot be opened is
  ``error`` with the reason; a camera that stops delivering frames (unplugged, or empty
  frames) is ``disconnected`` and is opened again with backoff until it is back. A video
  file or image sequence that has been read to its end is ``disconnected`` ("end of ...")
  and is not reopened. Files are paced at ``fps`` (or their own frame rate).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from device_drivers.base import Camera, CameraState, DetailValue, Scan
from device_drivers.config import CameraConfig
from device_drivers.decoding import Decoded, Decoder, DecoderUnavailable
from device_drivers.decoding.images import as_gray, shrink
from device_drivers.decoding.symbols import FLOOR_SYMBOLOGIES, accepts
from floor_app.backoff import Backoff

Frame = npt.NDArray[np.uint8]

EMPTY_FRAMES_BEFORE_DISCONNECT = 10
"""Consecutive failed or empty reads after which a live camera counts as gone."""


class FrameSource(Protocol):
    """What the camera needs of a ``cv2.VideoCapture`` (tests may hand in their own)."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, Any]: ...

    def get(self, prop: int) -> float: ...

    def set(self, prop: int, value: float) -> bool: ...

    def release(self) -> None: ...


SourceOpener = Callable[[int | str], FrameSource]


class CameraOpenError(Exception):
    """The source cannot be opened; the message says why."""


def source_kind(source: int | str) -> str:
    """``device``, ``stream``, ``sequence`` or ``file`` for a configured source."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return "device"
    if "://" in source:
        return "stream"
    if "%" in source:
        return "sequence"
    return "file"


def open_source(source: int | str) -> FrameSource:
    """Open ``source`` with OpenCV; raises :class:`CameraOpenError` with the reason."""
    kind = source_kind(source)
    if kind == "file" and not Path(str(source)).is_file():
        raise CameraOpenError(f"camera file {source} does not exist")
    if kind == "sequence" and not Path(str(source)).parent.is_dir():
        raise CameraOpenError(f"folder of image sequence {source} does not exist")
    # OpenCV and FFmpeg write warnings straight to the terminal, under the app's screen;
    # the reason reaches the app as the camera's error instead. FFmpeg reads its level
    # once, at its first use in the process.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    with contextlib.suppress(Exception):
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    if kind == "device":
        capture = cv2.VideoCapture(int(source))
    elif kind == "stream":
        timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000]
        capture = cv2.VideoCapture(str(source), cv2.CAP_FFMPEG, timeouts)
    else:
        capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        capture.release()
        reason = {
            "device": f"cannot open camera {source} (/dev/video{source})",
            "stream": f"cannot open stream {source}",
            "sequence": f"no images match {source} (the first must be numbered 0 to 4)",
            "file": f"cannot read video file {source}",
        }[kind]
        raise CameraOpenError(reason)
    opened: FrameSource = capture
    return opened


class LatestFrame:
    """A one-frame mailbox: :meth:`put` replaces an unread frame (counted as dropped)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        """Offer the newest frame."""
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify()

    def take(self, timeout: float) -> Frame | None:
        """The newest frame, waiting up to ``timeout`` seconds; None when none came."""
        with self._cond:
            if self._frame is None:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            return frame


class CodeDeduplicator:
    """Says whether a code is new: not seen within ``window_s`` seconds.

    Every sighting renews the window, so a code that stays in view is reported once; it is
    reported again only after it has been out of view for the whole window.
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: dict[str, float] = {}

    def is_new(self, text: str, now: float) -> bool:
        """Record a sighting of ``text`` at ``now``; True when it should be reported."""
        last = self._seen.get(text)
        self._seen[text] = now
        if len(self._seen) > 256:
            self._seen = {t: s for t, s in self._seen.items() if now - s < self.window_s}
        return last is None or now - last >= self.window_s


@dataclass(frozen=True, slots=True)
class CameraStats:
    """Counters of one camera since it was built."""

    frames_captured: int
    frames_decoded: int
    frames_dropped: int
    empty_frames: int
    scans: int
    repeats_suppressed: int
    decode_ms_mean: float

    def as_dict(self) -> dict[str, float]:
        """The counters by name (for ``floor-app doctor --json``)."""
        return {
            "frames_captured": self.frames_captured,
            "frames_decoded": self.frames_decoded,
            "frames_dropped": self.frames_dropped,
            "empty_frames": self.empty_frames,
            "scans": self.scans,
            "repeats_suppressed": self.repeats_suppressed,
            "decode_ms_mean": round(self.decode_ms_mean, 1),
        }


def camera_decoder(config: CameraConfig) -> Decoder:
    """The decoder a camera with ``config`` uses; raises :class:`DecoderUnavailable`.

    ``both`` (or ``pipeline``) is :class:`~device_drivers.decoding.pipeline.
    CameraPipelineDecoder`: zxing-cpp on every frame, ZBar beside it on every eighth.
    """
    from device_drivers.decoding import build_decoder
    from device_drivers.decoding.pipeline import CameraPipelineDecoder

    symbologies = frozenset(config.symbologies) or FLOOR_SYMBOLOGIES
    if config.decoder in ("both", "pipeline"):
        return CameraPipelineDecoder(symbologies)
    return build_decoder(config.decoder, symbologies)


class OpenCvCamera(Camera):
    """A camera read through OpenCV (see the module docstring).

    ``decoder`` replaces the configured one, ``opener`` the OpenCV capture (for tests),
    ``decode_max_side`` caps the decoded image's longer side in pixels (None: full size).
    """

    def details(self) -> dict[str, DetailValue]:
        return {**super().details(), **self.stats().as_dict(), "source": str(self.config.source)}

    def __init__(
        self,
        name: str,
        config: CameraConfig,
        *,
        decoder: Decoder | None = None,
        opener: SourceOpener = open_source,
        decode_max_side: int | None = 1280,
    ) -> None:
        super().__init__(name, required=config.required)
        self.config = config
        self.decode_max_side = decode_max_side
        self._opener = opener
        self._decoder_error = ""
        if decoder is None:
            try:
                decoder = camera_decoder(config)
            except (DecoderUnavailable, ValueError) as exc:
                self._decoder_error = str(exc)
        self.decoder = decoder
        self._wanted = frozenset(config.symbologies)
        self._slot = LatestFrame()
        self._dedupe = CodeDeduplicator(config.dedupe_window_s)
        self._stop = threading.Event()
        self._capture_done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._frames_captured = 0
        self._frames_decoded = 0
        self._empty_frames = 0
        self._scans = 0
        self._repeats = 0
        self._decode_s = 0.0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Open the source and start decoding, both in threads of their own."""
        with self._lock:
            if any(t.is_alive() for t in self._threads):
                return
            if self.decoder is None:
                self._set_state(CameraState.ERROR, f"no barcode decoder: {self._decoder_error}")
                return
            self._stop.clear()
            self._capture_done.clear()
            self._threads = [
                threading.Thread(target=self._capture_loop, name=f"{self.name}-capture"),
                threading.Thread(target=self._decode_loop, name=f"{self.name}-decode"),
            ]
            for thread in self._threads:
                thread.daemon = True
                thread.start()

    def stop(self) -> None:
        """Stop both threads and release the source; idempotent."""
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self._set_state(CameraState.STOPPED)

    def wait_finished(self, timeout: float) -> bool:
        """Wait until a file source has been read to its end and its frames decoded."""
        end = time.monotonic() + timeout
        if not self._capture_done.wait(timeout):
            return False
        decoder = self._threads[1] if len(self._threads) > 1 else None
        while decoder is not None and decoder.is_alive() and time.monotonic() < end:
            time.sleep(0.01)
        return decoder is None or not decoder.is_alive()

    @property
    def counters(self) -> CameraStats:
        """The counters so far (what diagnostics show)."""
        return self.stats()

    def stats(self) -> CameraStats:
        """The counters so far."""
        decoded = self._frames_decoded
        return CameraStats(
            frames_captured=self._frames_captured,
            frames_decoded=decoded,
            frames_dropped=self._slot.dropped,
            empty_frames=self._empty_frames,
            scans=self._scans,
            repeats_suppressed=self._repeats,
            decode_ms_mean=(self._decode_s / decoded * 1000) if decoded else 0.0,
        )

    # -- capture thread ----------------------------------------------------------------

    def _capture_loop(self) -> None:
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s)
        kind = source_kind(self.config.source)
        try:
            first = True
            while not self._stop.is_set():
                if first or self.state not in (CameraState.ERROR, CameraState.DISCONNECTED):
                    self._set_state(CameraState.CONNECTING)  # a fault stays shown on retry
                first = False
                try:
                    capture = self._opener(self.config.source)
                except CameraOpenError as exc:
                    self._set_state(
                        CameraState.ERROR
                        if kind in ("file", "sequence")
                        else CameraState.DISCONNECTED,
                        str(exc),
                    )
                    self._stop.wait(backoff.next_delay())
                    continue
                except Exception as exc:  # an OpenCV error must not end the thread
                    self._set_state(CameraState.ERROR, f"cannot open camera: {exc}")
                    self._stop.wait(backoff.next_delay())
                    continue
                try:
                    finished = self._read_frames(capture, kind, backoff)
                except Exception as exc:
                    self._set_state(CameraState.ERROR, f"camera read failed: {exc}")
                    finished = False
                finally:
                    with contextlib.suppress(Exception):
                        capture.release()
                if finished:
                    return
                self._stop.wait(backoff.next_delay())
        finally:
            self._capture_done.set()

    def _read_frames(self, capture: FrameSource, kind: str, backoff: Backoff) -> bool:
        """Read until the source fails (False: reopen) or a file ends (True: done)."""
        self._ask_for_format(capture, kind)
        pace = self._pace_s(capture, kind)
        next_at = time.monotonic()
        frames = 0
        empty = 0
        while not self._stop.is_set():
            ok, frame = capture.read()
            if not ok or frame is None or getattr(frame, "size", 0) == 0:
                if kind in ("file", "sequence"):
                    if frames == 0:
                        self._set_state(CameraState.ERROR, f"no frames in {self.config.source}")
                        return False
                    self._set_state(
                        CameraState.DISCONNECTED,
                        f"end of {self.config.source} after {frames} frames",
                    )
                    return True
                empty += 1
                self._empty_frames += 1
                if empty >= EMPTY_FRAMES_BEFORE_DISCONNECT:
                    self._set_state(
                        CameraState.DISCONNECTED,
                        f"camera {self.config.source} returned {empty} empty frames in a row",
                    )
                    return False
                self._stop.wait(0.02)
                continue
            empty = 0
            frames += 1
            self._frames_captured += 1
            if frames == 1:
                self._set_state(CameraState.READY)
                backoff.reset()
            self._slot.put(frame)
            if pace:
                next_at += pace
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_at = time.monotonic()
        return True

    def _ask_for_format(self, capture: FrameSource, kind: str) -> None:
        if kind not in ("device", "stream"):
            return
        with contextlib.suppress(Exception):
            if self.config.frame_width:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.frame_width)
            if self.config.frame_height:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.frame_height)
            if self.config.fps:
                capture.set(cv2.CAP_PROP_FPS, self.config.fps)

    def _pace_s(self, capture: FrameSource, kind: str) -> float:
        """Seconds between frames of a file (a live source paces itself)."""
        if kind not in ("file", "sequence"):
            return 0.0
        fps = self.config.fps
        if fps is None:
            try:
                fps = float(capture.get(cv2.CAP_PROP_FPS))
            except Exception:
                fps = 0.0
        return 1.0 / fps if fps and fps > 0 else 0.0

    # -- decode thread -----------------------------------------------------------------

    def _decode_loop(self) -> None:
        while not self._stop.is_set():
            frame = self._slot.take(timeout=0.1)
            if frame is None:
                if self._capture_done.is_set():
                    return
                continue
            try:
                self._decode(frame)
            except Exception as exc:  # one bad frame must not end decoding
                self._set_state(self.state, f"frame not decoded: {exc}")

    def _decode(self, frame: Frame) -> None:
        gray = as_gray(frame)
        region, dx, dy = self._region(gray)
        if region is None:
            return
        small, factor = shrink(region, self.decode_max_side)
        assert self.decoder is not None
        started = time.perf_counter()
        found = self.decoder.decode(small)
        self._decode_s += time.perf_counter() - started
        self._frames_decoded += 1
        now = time.monotonic()
        for read in found:
            if self._wanted and not accepts(self._wanted, read.symbology):
                continue
            if not self._dedupe.is_new(read.text, now):
                self._repeats += 1
                continue
            self._report(read.moved(dx, dy, factor))

    def _region(self, gray: Frame) -> tuple[Frame | None, int, int]:
        roi = self.config.roi
        if roi is None:
            return gray, 0, 0
        x, y, w, h = roi
        height, width = gray.shape
        left, top = max(0, x), max(0, y)
        right, bottom = min(width, x + w), min(height, y + h)
        if right <= left or bottom <= top:
            self._set_state(
                CameraState.ERROR,
                f"region of interest {roi} lies outside the {width}x{height} frame",
            )
            return None, 0, 0
        return np.ascontiguousarray(gray[top:bottom, left:right]), left, top

    def _report(self, read: Decoded) -> None:
        self._scans += 1
        self._emit_scan(
            Scan(
                text=read.text,
                raw=read.raw,
                symbology=read.symbology,
                source=self.name,
                timestamp=time.time(),
                aim=read.aim,
                position=read.position,
            )
        )
