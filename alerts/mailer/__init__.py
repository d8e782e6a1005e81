"""Mailer: alert events from ActiveMQ to SMTP, exactly one mail per event id (see consumer.py)."""
