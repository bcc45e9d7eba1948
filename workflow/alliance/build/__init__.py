"""The build's machinery: code versions of rules, stale locks, PDF engines, copies of the project."""
