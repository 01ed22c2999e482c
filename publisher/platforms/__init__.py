"""Platform clients: one module per platform behind :class:`PlatformClient`."""
