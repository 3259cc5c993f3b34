"""image-to-video-in-flow: still images to short H.264 clips, from the terminal."""

__version__ = "0.1.0"
