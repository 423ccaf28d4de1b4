"""Device drivers: barcode scanners, cameras, label printers and scales.

Drivers never import Textual; they report through callbacks and queues that the app turns
into messages. Each device kind is one abstract class in :mod:`device_drivers.base`.
"""
