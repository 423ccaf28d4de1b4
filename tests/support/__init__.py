"""Helpers shared by the test suites (a real Mosquitto on a free port, data builders ...)."""
