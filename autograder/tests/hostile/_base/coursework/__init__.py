"""A submission used by the hostile-submission tests: honest code plus one hostile change."""
