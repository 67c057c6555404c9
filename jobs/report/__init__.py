"""A job's pictures (PNG, drawn with matplotlib's Agg renderer) and its Markdown index page."""
