"""Audio decoding and ingest, VAD segmentation and the Vosk streaming recognizer."""
