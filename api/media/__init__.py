"""Uploaded media: course cover images and lesson videos, stored under MEDIA_DIR."""
