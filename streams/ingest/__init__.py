"""`crsmon ingest`: the network shell around monitor/ingest's codecs.

An MLLP server for HL7 v2 ORU^R01 and an HTTP server for FHIR R4 Observations, both publishing
VitalSigns to the `vitals` topic and what cannot be used to `dead-letters`.
"""
