"""PLACEHOLDER (rectifier/modules issue)."""
