"""Grading systems: the ASTCT consensus grade of cytokine release syndrome."""
