"""Decoding uploads: images with Pillow, voice notes with PyAV (FFmpeg's libraries)."""
