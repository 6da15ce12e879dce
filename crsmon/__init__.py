"""The `crsmon` command: the one place that wires monitor/, streams/ and alerting/ together."""
