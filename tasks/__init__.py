"""The memnet task catalogue (``catalogue.toml``), shipped inside the package as ``memnet.tasks``.

Read it through :mod:`memnet.catalogue`, not directly.
"""
