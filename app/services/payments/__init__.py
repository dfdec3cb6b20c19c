"""Payments beyond the manual card-to-card review: the Zarinpal gateway, bank SMS matching, receipt fingerprints."""
