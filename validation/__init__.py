"""`crsmon validate`: silent-mode validation of the engine on a hospital's own records.

Before an early warning system pages anyone, a hospital runs it over its own past patients and
compares what it would have done with what happened and with the bedside scores its clinicians
know (NEWS2, qSOFA, SIRS). This room reads such records (PhysioNet-format `.psv` folders, or
JSON Lines in the wire contract's shapes plus an outcomes file), runs the same engine as the
worker over each stay, scores the bedside comparators on the same hours, and reports the
figures with bootstrap intervals as JSON and as one self-contained HTML page.

It uses `monitor/` and nothing of Kafka, Faust or HTTP: a validation runs on a laptop.
"""
