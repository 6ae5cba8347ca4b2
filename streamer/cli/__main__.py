"""``python -m streamer.cli``: the same as the ``topictrack`` command."""

from __future__ import annotations

import sys

from streamer.cli import main

sys.exit(main())
