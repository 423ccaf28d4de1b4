"""What the simulator commands (``floor-sim``, ``floor-shift``) share: logging, the sync
options from ``--broker`` and ``--site``, and a stop event set by SIGTERM and SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from sync.device import AgentOptions
from sync.mqtt import BrokerUrlError, LinkOptions, parse_broker_url


def command_settings(prog: str, args: argparse.Namespace) -> AgentOptions | None:
    """Log to stderr (INFO with ``--verbose``) and make the devices' sync settings; None,
    after saying why on stderr, when ``--broker`` cannot be used."""
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        broker = parse_broker_url(args.broker)
    except BrokerUrlError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None
    link = LinkOptions(broker=broker, backoff_max_s=5.0)
    return AgentOptions(link=link, site=args.site, app_version=prog)


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set (the command then winds down cleanly)."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
