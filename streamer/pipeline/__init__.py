"""The streaming pipeline: the Faust app, its agents and the state they keep.

- :mod:`~streamer.pipeline.app`: the composition root (``build_pipeline``);
- :mod:`~streamer.pipeline.context`: ``Pipeline``, the typed context every stage shares;
- :mod:`~streamer.pipeline.agents`: the ``embed``, ``track`` and ``sink`` stages;
- :mod:`~streamer.pipeline.tracker`: the track stage's logic without Kafka
  (engines and alert detectors per stream), and
  :mod:`~streamer.pipeline.checkpoint`, its checkpoints;
- :mod:`~streamer.pipeline.codec`: wire formats of the internal topics;
- :mod:`~streamer.pipeline.webhook`: the ``--alert-webhook`` sender;
- :mod:`~streamer.pipeline.runtime`: counters and topic summaries the API shows;
- :mod:`~streamer.pipeline.launch` and :mod:`~streamer.pipeline.worker`: start a
  worker process (store, broker, topics) and run it until stopped.
"""
