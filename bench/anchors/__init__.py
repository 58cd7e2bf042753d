"""Other brokers measured in the same run: NATS JetStream and Redis Streams.

Each anchor starts its own server on a free local port with a scratch data directory, runs
its loads from this process, and stops the server. A missing binary skips the anchor.
"""
