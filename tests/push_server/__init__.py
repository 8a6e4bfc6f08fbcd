"""A Web Push service on loopback for the tests, as tests/stripe_server stands in for Stripe."""
