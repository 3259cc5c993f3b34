"""Watching the clip in the terminal: what to play and making it (source.py), decoding it into
frames at the pane's size (frames.py). No textual here: the pane is widgets/preview.py.
"""
