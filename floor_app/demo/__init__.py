"""Demo data: one deterministic site that the app, the hub and the simulator share."""

from .site import DEMO_SENDER, DemoSite, StockRecord, build_demo_site

__all__ = ["DEMO_SENDER", "DemoSite", "StockRecord", "build_demo_site"]
