"""The chain: organisations, members, invitations, directory groups, visibility rules."""
