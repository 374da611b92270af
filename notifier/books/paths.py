"""Where the books live under the root folder: file names only, so that anything may import them
without loading the schema."""

SETTINGS_FILE = "data/business.yaml"
CLIENT_FILES = ("data/clients.yaml", "data/clients/*.yaml")
INVOICE_FILES = ("data/invoices.yaml", "data/invoices/*.yaml")
PAYMENTS_FILE = "data/records/payments.yaml"
MESSAGES_FILE = "data/records/messages.yaml"
IMPORTS_FILE = "data/records/imports.yaml"
PAYMENT_LINKS_FILE = "data/records/payment-links.yaml"
REVIEW_FILE = "data/records/review.yaml"
