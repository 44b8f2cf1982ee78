"""The prompt registry in files: versions, hashes, labels, render, diff. Nothing here imports Textual."""
