"""Pure computation over records: no I/O, no Textual."""
