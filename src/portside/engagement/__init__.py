"""Proactive engagement: trigger rules evaluated as shoppers browse, and what they do."""
