"""notifier: invoices kept as YAML in git, turned into client pages, reminders and reconciled payments."""

__version__ = "0.1.0"
