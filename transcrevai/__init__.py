"""TranscrevAI: speaker-attributed Portuguese transcription (framework-free domain logic)."""

__version__ = "0.1.0"
