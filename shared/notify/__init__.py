"""Sending notifications: target checks and one sender per subscription kind."""
