"""Test helpers for the report checks: a headless Chromium driven over the DevTools protocol."""
