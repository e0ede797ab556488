"""The county overview: the board (who stands where), the figures from the history, the charts,
the follow-up report (PDF) and their pages."""
