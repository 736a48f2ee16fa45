"""Run a real Bugsink server on 127.0.0.1 for the end-to-end test (see server.py)."""
