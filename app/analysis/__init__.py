"""Offline analysers: plain functions with small typed results, no Flask and no database."""
