"""Consent: what a person agreed to, with the text's version and when; withdrawable."""
