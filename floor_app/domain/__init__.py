"""The floor's pure rules: no I/O, no framework, nothing but Python and biip.

Everything a picker, packer or supervisor deals with is named here: SKUs and their
barcodes, locations, orders and their state machine, pick tasks, totes, cartons, pack
sessions, label jobs and shortages. Storage, drivers, sync and the UI build on it.
"""
