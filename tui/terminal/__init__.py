"""The terminal itself: what it can draw (graphics.py) and Sixel encoding (sixel.py)."""
