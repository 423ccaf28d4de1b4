"""Subcommands of ``floor-app`` (``floor-app label``, ``floor-app doctor`` ...).

Each module here exposes ``register(subparsers)``, which adds its subparser and sets
``func`` (taking the parsed args and returning an exit code). ``floor_app.__main__``
registers the modules it lists (``build_parser``): a new subcommand is added there.
"""
