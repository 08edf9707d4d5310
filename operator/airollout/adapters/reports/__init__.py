"""Readers of the reports that CI tools write, each giving a piece of the v1 signals.

Every reader returns a `Reading`: its part of the signals object (see
`airollout.core.promotion.signals`) and sentences for the summary saying what was read.
A report that cannot be read raises `ReportError` naming the file and the problem, so a
broken input is never mistaken for a clean one.
"""
