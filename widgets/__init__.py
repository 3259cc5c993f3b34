"""The panes of the terminal app, one module each."""
