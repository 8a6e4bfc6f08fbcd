"""The practice's identity: who sells the courses and is responsible for the data kept."""
