"""The synthetic redaction corpus: templates, pools, the builder, the Whisper transform, the loader.

See README.md in this folder."""
