"""The wallet page has no forms (the platform admin tops wallets up); the module keeps the area shape."""
