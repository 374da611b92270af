"""Payments: Stripe exports and the Stripe API into the books, and the Payment Links."""
