"""Reminders: which stage is due for whom (plan), the words and the email (texts, render, compose,
notice), tasks for a person (tasks, bundle), and the effects at the edge (record, send, deliver).

Everything but `record`, `send`, `bundle.write_bundle` and `deliver` is a pure function of the books,
the as-of date and the run's moment."""
