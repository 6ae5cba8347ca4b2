"""The Faust agents: ``embed`` → ``track`` → ``sink`` (the shape in the README)."""
