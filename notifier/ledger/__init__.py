"""The ledger: each invoice's amounts, status, plan, fees and next step, as of a date."""
