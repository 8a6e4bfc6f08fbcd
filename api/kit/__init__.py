"""What every domain repeats, written once: ids at the edge, a child looked up within its
parent, keyset pages on a (moment, id) cursor, and slugs made from titles."""
