"""Explorations of a trained generator: each writes PNGs and a JSON of its numbers into RUN_DIR/explore/."""
