"""The overview has no forms; the module is here so every area has the same shape."""
