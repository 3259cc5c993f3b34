"""What every part shares and that knows no engine and no UI: the wire shapes, the draft's text
vocabulary, paths, settings, schema versions, intents and the choice of backend."""
