"""Use cases: the only code that changes state. Each one is one unit of work that commits
the state change together with its outbox event; the UI confirms only after it returns."""
