"""Channels: the outside places a group's messages are pushed to."""
