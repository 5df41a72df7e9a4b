"""Customers: the brand's end customers, each served by one dealer member (the owner)."""
