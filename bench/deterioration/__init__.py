"""Offline harness for issue 12: the deterioration early warning and the bedside scores it is
compared with, on the PhysioNet/CinC 2019 hourly records (`python -m bench.deterioration`)."""
