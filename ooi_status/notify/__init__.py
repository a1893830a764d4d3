"""Notifications for people: e-mail and chat messages about status changes, and daily digests.

Pure rules (no I/O, the clock an argument): ``flapping`` (which streams are held back),
``messages`` (a round's changes → one message per subscription, grouped by node) and
``digest`` (the daily summary). ``subscriptions`` reads and writes the subscriptions; the
monitor's notification step (ooi_status.monitor.notify) puts them together and queues the
messages in the outbox, which delivers them like every event (ooi_status.monitor.sinks).
"""
