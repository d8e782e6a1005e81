"""Alert job (rules over Elasticsearch -> events on ActiveMQ) and mailer (events -> SMTP)."""
