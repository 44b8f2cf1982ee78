"""Online scoring, sampling, the triage queue and labels. Nothing here imports Textual."""
