"""Mail adapters: sending through a store's SMTP server (domain/mail.py's MailTransport)."""
