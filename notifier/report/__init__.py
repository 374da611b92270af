"""The business's view: receivables aging, cash, and each client's record."""
