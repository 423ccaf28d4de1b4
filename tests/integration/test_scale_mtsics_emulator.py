"""The scale driver against the PyPI ``mt-sics-emulator`` (an independent MT-SICS
implementation), served over TCP on 127.0.0.1 and reached through ``socket://``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from drivers_pty import wait_for

from device_drivers.base import ScaleState
from device_drivers.config import ScaleConfig
from device_drivers.scale import SerialScale
from device_drivers.weighing import ScaleOverload, ScaleRefused, ScaleTimeout

pytestmark = pytest.mark.integration

mtsics_state = pytest.importorskip(
    "mtsics.core.state", reason="the mt-sics-emulator package is not installed"
)
mtsics_engine = pytest.importorskip("mtsics.protocol.engine")
mtsics_tcp = pytest.importorskip("mtsics.transport.tcp")


class EmulatedScale:
    """mt-sics-emulator in a thread of its own, bound to loopback on a free port."""

    def __init__(self) -> None:
        self.state: Any = mtsics_state.ScaleState()
        engine = mtsics_engine.MTSICSEngine(self.state)
        self.loop = asyncio.new_event_loop()
        self.transport = mtsics_tcp.TCPTransport(
            engine, cfg=mtsics_tcp.TCPConfig(host="127.0.0.1", port=0)
        )
        host, port = self.loop.run_until_complete(self.transport.start())
        self.url = f"socket://{host}:{port}"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def set_weight(self, value: float, *, stable: bool = True) -> None:
        done = threading.Event()

        def apply() -> None:
            self.state.set_weight(value, stable=stable)
            done.set()

        self.loop.call_soon_threadsafe(apply)
        assert done.wait(5)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.transport.close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def emulated() -> Iterator[tuple[EmulatedScale, SerialScale]]:
    emulator = EmulatedScale()
    scale = SerialScale(ScaleConfig(port=emulator.url, command_timeout_s=1.0, poll_interval_s=0.02))
    scale.start()
    assert wait_for(lambda: scale.state is ScaleState.READY), scale.last_error
    yield emulator, scale
    scale.stop()
    emulator.close()


def test_weigh_tare_and_zero(emulated: tuple[EmulatedScale, SerialScale]) -> None:
    emulator, scale = emulated
    emulator.set_weight(12.5)
    weight = scale.read()
    assert (weight.value, weight.unit, weight.stable) == (Decimal("12.50"), "kg", True)
    assert scale.tare().value == Decimal("12.50")
    assert scale.read().value == Decimal("0.00")
    emulator.set_weight(1.0)
    scale.zero()
    assert scale.read().value == Decimal("-12.50")  # zeroed at 1.0 kg; the tare stays


def test_dynamic_weight_and_no_stable_weight(
    emulated: tuple[EmulatedScale, SerialScale],
) -> None:
    emulator, scale = emulated
    emulator.set_weight(3.0, stable=False)
    assert not scale.read(stable=False).stable
    with pytest.raises(ScaleTimeout):
        scale.read(timeout=0.3)
    with pytest.raises(ScaleRefused):
        scale.tare()


def test_zero_outside_range_and_overload(emulated: tuple[EmulatedScale, SerialScale]) -> None:
    emulator, scale = emulated
    emulator.set_weight(50.0)
    with pytest.raises(ScaleRefused):
        scale.zero()
    emulator.set_weight(500.0)
    with pytest.raises(ScaleOverload):
        scale.read()


def test_serial_server_dropping_the_connection_is_a_disconnect() -> None:
    """A serial-to-Ethernet server that reboots: the TCP connection closes under the driver."""
    import socket

    from device_drivers.base import StateChange

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    scale = SerialScale(
        ScaleConfig(port=f"socket://127.0.0.1:{port}", reconnect_min_s=0.05, reconnect_max_s=0.1)
    )
    changes: list[StateChange[ScaleState]] = []
    scale.on_state_change(changes.append)
    scale.start()
    try:
        conn, _ = listener.accept()
        conn.close()
        assert wait_for(lambda: any(c.new is ScaleState.DISCONNECTED for c in changes))
        gone = next(c for c in changes if c.new is ScaleState.DISCONNECTED)
        assert "went away" in gone.error
    finally:
        scale.stop()
        listener.close()
