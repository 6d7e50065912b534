"""Studies: a report's experiments run from one study file, and verdicts on the report's findings."""
