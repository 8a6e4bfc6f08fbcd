"""The practice's terms of sale (algemene voorwaarden) and the withdrawal waiver at checkout."""
