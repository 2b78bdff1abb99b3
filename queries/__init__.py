"""Named SQL files, one query each, read by dashboard.sql. Bound parameters only."""
