"""Who needs attention now: the instructor's list of learners, each with the reason."""
