"""Questionnaires: self-tests that lead a stranger in, and check-ins that measure a course."""
