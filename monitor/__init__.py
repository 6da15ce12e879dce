"""The clinical core of crsmon: wire models, scores, grading, episodes and the engine.

Nothing in this package talks to Kafka, Faust or HTTP, so every clinical behaviour can be
tested and replayed without a broker.
"""
