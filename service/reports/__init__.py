"""What the brand reads of its chain: figures over orders and groups, and their definitions."""
