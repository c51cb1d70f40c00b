"""Presentation: figures, the sweep report and the text the command line prints."""
