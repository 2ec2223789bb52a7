"""Delivery: the outbox and its worker, email notifications and webhooks, their payloads, the
network check, mail transport."""
