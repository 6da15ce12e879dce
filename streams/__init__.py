"""The Faust side of crsmon: topics, the batch lane, metrics and health, around the engine in monitor/."""
