"""Broadcasts: one message from the brand to many delivery groups, within a monthly quota."""
