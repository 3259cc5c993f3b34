"""`i2v-flow` on the command line: the entry point (main.py) and its commands."""
