"""The three device applications. Each is a small state machine with its I/O passed in."""
