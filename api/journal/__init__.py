"""Her private journal: what she felt, optionally tension or pain, shared one entry at a time."""
