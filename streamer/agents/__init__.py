"""The Faust agents: ``embed`` → ``track`` → ``sink`` (see DESIGN's shape)."""
