"""Delivery groups (one per customer), their templates, members and messages."""
