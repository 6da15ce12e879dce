"""The Faust side of crsmon: topics, agents, metrics and health, around the engine in monitor/."""
