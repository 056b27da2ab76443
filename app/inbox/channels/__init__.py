"""Message channels: each organisation's numbers and mailboxes, each at a provider, spoken in that
provider's own protocol.

One module per provider (`twilio`, `smtp`) turns what the provider sends into plain values
(`base.Inbound`, `base.StatusReport`) and sends `base.Outgoing` through its API, raising
`base.SendFailed` with the provider's own words. Those modules know nothing about the database or
Flask's request: `hooks` checks signatures and types and calls the services, `services` owns the
channel rows, `delivery` the honest state of every reply (queued, sent to provider, delivered,
read, failed, kept in the outbox) and its retries.

Every call out goes through app.core.http (the outbound guard); every credential is stored
encrypted (app.core.crypto) and shown masked.
"""
