"""Offline-first sync between floor devices and the central order hub, over MQTT."""
