"""Bedside scores computed from one moment's values: NEWS2, shock index, qSOFA."""
