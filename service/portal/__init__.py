"""What the dealer portal and the customer's link need of the domain, as plain functions over a
session that the brand API can call too: who may see what (access), and the views built on it."""
