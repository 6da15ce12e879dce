"""The ward dashboard: a web page that shows every monitored patient and every open alert live.

The server follows `patient-status`, `alerts` and `alert-acks` with its own Kafka consumer,
keeps a small in-memory view of the ward, and pushes changes to browsers over Server-Sent
Events. Browsers never talk to Kafka; they send acknowledgements back with a plain POST.
"""
