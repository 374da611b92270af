"""The documents a client keeps (an invoice, a receipt for each payment; the final notice is the
reminders'), as data for the theme's Typst templates (`site/documents/NAME.typ`): every amount,
date and word already formatted in the client's language, so a template only lays them out and
`notifier.printer` prints it. A new kind of document (a credit note) is a template and a function
that gives its data from the account, with `common.parts` for what every document shows."""
