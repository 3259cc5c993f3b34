"""The parts of the terminal app, one mixin per job; `tui/app.py` assembles them into `I2VApp`."""
