"""Where attachments' bytes are kept: a local directory, or S3-compatible storage."""
