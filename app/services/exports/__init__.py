"""Exports: CSV, JSON Lines and XLSX, planned once and streamed in batches, with formula-safe
cells."""

from app.services.exports.streaming import FORMATS
from app.services.exports.streaming import export_filename
from app.services.exports.streaming import header
from app.services.exports.streaming import plan_export
from app.services.exports.streaming import record_export
from app.services.exports.streaming import stream_export
from app.services.exports.writing import csv_field

__all__ = [
    "FORMATS",
    "csv_field",
    "export_filename",
    "header",
    "plan_export",
    "record_export",
    "stream_export",
]
