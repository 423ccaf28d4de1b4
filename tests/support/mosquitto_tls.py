"""A site's Mosquitto for TLS tests: certificate and password listeners from a site folder.

Builds on :class:`support.mosquitto.MosquittoBroker` with the files ``hub.provisioning``
generates (``SitePaths.broker``)::

    listener <port> 127.0.0.1          # certificates: require_certificate, CN = user name, CRL
    listener <password_port> 127.0.0.1 # TLS with user name and password
    password_file, acl_file            # global, from the site registry

and paho clients that connect to it with a device's bundle files.
"""

from __future__ import annotations

import signal
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.provisioning import SitePaths
from support.mosquitto import MosquittoBroker, TlsFiles, free_port


def site_broker(folder: Path, paths: SitePaths, *, crl: bool = True) -> MosquittoBroker:
    """A (not yet started) broker with a certificate listener and a password listener.

    ``broker.port`` is the certificate listener; ``broker.password_port`` the password one.
    """
    password_port = free_port()
    extra = [
        "use_username_as_clientid true",  # of the certificate listener, as on a site
        f"crlfile {paths.crl}" if crl else "",
        f"password_file {paths.passwd}",
        f"acl_file {paths.acl}",
        f"listener {password_port} 127.0.0.1",
        f"cafile {paths.broker_ca}",
        f"certfile {paths.server_cert}",
        f"keyfile {paths.server_key}",
        "require_certificate false",
        "use_username_as_clientid true",
    ]
    broker = MosquittoBroker(
        folder,
        tls=TlsFiles(paths.broker_ca, paths.server_cert, paths.server_key),
        require_certificate=True,
        allow_anonymous=False,
        extra_config="\n".join(line for line in extra if line),
    )
    broker.password_port = password_port  # type: ignore[attr-defined]
    return broker


def reload_broker(broker: MosquittoBroker, timeout: float = 10.0) -> None:
    """SIGHUP, as ``systemctl reload mosquitto`` sends, and wait until the broker took it.

    Mosquitto re-reads the password file, the ACL and the CRL in its single main loop right
    after logging "Reloading config.", so once that line is in the log every later
    connection is checked against the new files.
    """
    assert broker.process is not None

    def reloads() -> int:
        try:
            return broker.log_path.read_text(errors="replace").count("Reloading config.")
        except OSError:
            return 0

    before = reloads()
    broker.process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: reloads() > before, timeout), broker.log_tail()


@dataclass
class ConnectOutcome:
    """How a connection attempt ended: ``connected``, or the TLS or CONNACK error."""

    connected: bool
    error: str = ""
    exception: BaseException | None = None
    received: list[tuple[str, bytes]] = field(default_factory=list)


class DeviceClient:
    """A paho MQTT 5 client with a device's TLS files; connect, publish, subscribe, wait."""

    def __init__(
        self,
        client_id: str,
        *,
        ca_file: Path,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        username: str | None = None,
        password: str | None = None,
        check_hostname: bool = True,
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        self.client.tls_set(
            ca_certs=str(ca_file),
            certfile=str(cert_file) if cert_file else None,
            keyfile=str(key_file) if key_file else None,
        )
        self.client.tls_insecure_set(not check_hostname)
        if username is not None:
            self.client.username_pw_set(username, password)
        self._connack = threading.Event()
        self._rc: Any = None
        self._lock = threading.Lock()
        self.received: list[tuple[str, bytes]] = []
        self._acked: dict[int, Any] = {}
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self._closed: str | None = None
        #: set when the broker closes the connection after it was accepted
        self.dropped = threading.Event()
        self._subacks: dict[int, list[Any]] = {}

    def _on_connect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        self._rc = rc
        self._connack.set()

    def _on_disconnect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        if not self._connack.is_set():
            self._closed = str(rc)
            self._connack.set()
        else:
            self.dropped.set()

    def _on_message(self, c: Any, u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.received.append((msg.topic, msg.payload))

    def _on_publish(self, c: Any, u: Any, mid: int, rc: Any, props: Any) -> None:
        with self._lock:
            self._acked[mid] = rc

    def _on_subscribe(self, c: Any, u: Any, mid: int, rcs: Any, props: Any) -> None:
        with self._lock:
            self._subacks[mid] = list(rcs)

    def connect(self, host: str, port: int, timeout: float = 10.0) -> ConnectOutcome:
        """Connect and wait for the CONNACK; a TLS failure or refusal is an outcome."""
        try:
            self.client.connect(host, port, keepalive=10)
        except (ssl.SSLError, OSError) as exc:
            return ConnectOutcome(False, str(exc), exc)
        self.client.loop_start()
        if not self._connack.wait(timeout) or self._closed is not None:
            self.client.loop_stop()
            return ConnectOutcome(
                False, f"no CONNACK: the broker closed the connection ({self._closed})"
            )
        if self._rc.is_failure:
            self.client.loop_stop()
            return ConnectOutcome(False, str(self._rc))
        return ConnectOutcome(True)

    def subscribe(self, topic: str, timeout: float = 10.0) -> list[Any]:
        """Subscribe at QoS 1 and return the SUBACK reason codes."""
        _, mid = self.client.subscribe(topic, qos=1)
        assert wait_until(lambda: mid in self._subacks, timeout), "no SUBACK"
        return self._subacks[mid]

    def publish(self, topic: str, payload: bytes, timeout: float = 10.0) -> Any:
        """Publish at QoS 1 and return the PUBACK reason code (MQTT 5 says 'Not authorized')."""
        info = self.client.publish(topic, payload, qos=1)
        assert wait_until(lambda: info.mid in self._acked, timeout), "no PUBACK"
        return self._acked[info.mid]

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
