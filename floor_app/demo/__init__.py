"""Demo data: one deterministic site that the app, the hub and the simulator share."""

from .site import DemoSite, StockRecord, build_demo_site

__all__ = ["DemoSite", "StockRecord", "build_demo_site"]
