"""Inbox: customer messages from webhooks, extracted order lines, review, usage and privacy."""
