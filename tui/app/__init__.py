"""The terminal app: `app.py` assembles `I2VApp` from one mixin per job (actions, commands,
connect, exports, watch; what they share is base.py), with its messages, history and palette."""
