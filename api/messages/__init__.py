"""Private questions: one thread per learner and course, between her and its instructor."""
