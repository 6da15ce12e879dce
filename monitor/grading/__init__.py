"""Grading systems: the ASTCT consensus grades of cytokine release syndrome (astct.py) and of
immune effector cell-associated neurotoxicity syndrome (icans.py)."""
