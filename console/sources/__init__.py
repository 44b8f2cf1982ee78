"""Where records come from. Nothing here imports Textual."""
